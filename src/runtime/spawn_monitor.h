#pragma once
// Starting a reaper-monitor: posix_spawn of /proc/self/exe under the name
// `reaper-monitor` (a fresh, single-threaded process: no fork without exec
// from a caller that may have threads), with a sync pipe on fd 3. Returns
// the workload's pid once the monitor reported `ok <pid>`, or its error.

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/error.h"

namespace reaper::runtime {

struct MonitorLaunch {
  std::vector<std::string> args;  // after argv[0]
  const char* const* envp = nullptr;
};

struct Launched {
  pid_t monitor = 0;
  pid_t workload = 0;
};

Result<Launched> launch_monitor(const MonitorLaunch& launch);

}  // namespace reaper::runtime
