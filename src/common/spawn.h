#pragma once
// Starting a helper program with posix_spawn: a fresh process image (no fork
// without exec from a caller that may have threads), default signal
// dispositions and an empty signal mask (the shim ignores SIGPIPE and blocks
// the signals of its signalfd; none of that may leak into what it starts),
// and chosen fds placed at chosen numbers. Every other fd the caller holds is
// close-on-exec by convention, so nothing else is inherited.

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "common/error.h"

namespace reaper {

struct SpawnRequest {
  std::string path;                   // the program
  std::vector<std::string> argv;      // argv[0] first
  const char* const* envp = nullptr;  // nullptr: an empty environment
  // {fd in the caller, fd number in the child}; the child's copies are not
  // close-on-exec.
  std::vector<std::pair<int, int>> fds;
  bool null_stdio = false;  // fds 0-2 onto /dev/null (unless placed above)
};

// Returns the child's pid (the caller owns it: reap it).
Result<pid_t> spawn(const SpawnRequest& req);

}  // namespace reaper
