#pragma once
// Starting a reaper-monitor, with a sync pipe on fd 3. Returns the
// workload's pid once the monitor reported `ok <pid>`, or its error. With
// `start` (monitor option --start) it also returns the exec's result, the
// report's second line.
//
// Two ways, one monitor: posix_spawn of /proc/self/exe under the name
// `reaper-monitor` (the shim: a long-lived caller whose memory a monitor
// should not share), or, with `in_place` (the CLI: single-threaded and
// about to exit), a fork that becomes the monitor without an exec. It keeps
// what the caller has already read (config.json, the node configuration),
// closes every other fd, resets its signals and sets its command line to
// the one the exec would have had (prctl PR_SET_MM), so that the identity
// check (monitor/identity.h) sees the same process either way. Where the
// command line cannot be set (no CAP_SYS_RESOURCE), the fork execs as the
// spawn would.

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/error.h"
#include "common/fd.h"
#include "monitor/monitor.h"

namespace reaper::runtime {

struct MonitorLaunch {
  std::vector<std::string> args;  // after argv[0]
  const char* const* envp = nullptr;
  bool start = false;   // release the workload at once (--start)
  bool remove = false;  // delete the state when all has ended (--remove)
  // Fork in place, handing these over (they outlive the monitor: the fork
  // never returns from launch_monitor()); null: spawn.
  const monitor::Preloaded* in_place = nullptr;
};

struct Launched {
  pid_t workload = 0;
  UniqueFd monitor_fd;  // a pidfd on the monitor (our child until we exit)
  Status exec;          // with `start`: the exec's result
};

Result<Launched> launch_monitor(const MonitorLaunch& launch);

}  // namespace reaper::runtime
