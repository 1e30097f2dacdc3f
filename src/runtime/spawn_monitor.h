#pragma once
// Starting a reaper-monitor: posix_spawn of /proc/self/exe under the name
// `reaper-monitor` (a fresh, single-threaded process: no fork without exec
// from a caller that may have threads), with a sync pipe on fd 3 (on fd
// 3+N when the caller's fds 3 to 3+N-1 are passed on, `preserve_fds`). Returns
// the workload's pid once the monitor reported `ok <pid>`, or its error.
// With `start` (monitor option --start) it also returns the exec's result,
// the report's second line; with `report_exit` too (--report-exit) the sync
// pipe, on which the monitor's last line, `exit <status>`, comes once all
// has ended (read_exit_report()). With `send_cgroup` the caller creates the
// container's cgroup while the monitor starts up and sends it on a socket
// the monitor gets as --cgroup-fd (cgroup/handover.h).

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/fd.h"

namespace reaper::runtime {

struct MonitorLaunch {
  std::vector<std::string> args;  // after argv[0]
  const char* const* envp = nullptr;
  bool start = false;        // release the workload at once (--start)
  bool remove = false;       // delete the state when all has ended (--remove)
  int preserve_fds = 0;      // the caller's fds 3.. go to the workload (--preserve-fds)
  bool report_exit = false;  // with `start`: the exit on the sync pipe (--report-exit)
  // Run once the monitor is spawned, before its report is read: sends the
  // cgroup on `sock`. Its error is the launch's, once the monitor (which then
  // gets no cgroup and fails) has exited.
  std::function<Status(int sock)> send_cgroup;
};

// The sync pipe's read end after the start-up report, and what was read
// past it.
struct ExitReport {
  UniqueFd fd;
  std::string pending;
};

struct Launched {
  pid_t workload = 0;
  UniqueFd monitor_fd;  // a pidfd on the monitor (our child until we exit)
  Status exec;          // with `start`: the exec's result
  ExitReport report;    // with `report_exit`
};

Result<Launched> launch_monitor(const MonitorLaunch& launch);

// The monitor's last line: its exit status once all has ended; nothing
// when it closed the pipe without one (it was killed, or failed before the
// end). Blocks until then.
std::optional<int> read_exit_report(ExitReport& report);

}  // namespace reaper::runtime
