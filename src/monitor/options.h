#pragma once
// Command line of reaper-monitor. It is started by the runtime core (CLI or
// shim), never by hand:
//
//   reaper-monitor --root R --id ID [--exec-id E] --bundle B --sync-fd N
//                  [--stdin P] [--stdout P] [--stderr P] [--console-socket S]
//                  [--overlay-group G] [--netns PATH] [--preserve-fds N]
//                  [--start [--report-exit]] [--remove] [--cgroup-fd N]
//
// Without --stdin/--stdout/--stderr the workload inherits the monitor's fds
// 0-2. With --preserve-fds N it also inherits fds 3 to 3+N-1 (the sync fd
// lies above them); the monitor keeps no copy of them once the workload is
// forked, and closes any other fd it was started with (inherited_fds.h).
// The process spec is <bundle>/config.json for the init process and
// <root>/<id>/exec/<exec-id>/process.json for an exec. With --netns the
// workload joins that network namespace (the pod's, src/network/). With
// --start the workload is released as soon as it is ready, without waiting
// for a `start` request, and the report on the sync fd has a second line,
// the exec's result (`ok` or `err ...`): create and start in one step.
// With --remove (an init process: `run` without --keep) the monitor deletes
// the container's state once everything has ended and been released, as
// `delete` would, unless exec processes have state of their own there; its
// exit status (the workload's) is then all that is left of it.
// With --report-exit (a caller in the foreground: `run` and `exec` without
// --detach) the sync fd stays open after the report and gets a last line,
// `exit <status>`, once everything has ended, been recorded and (--remove)
// deleted: the caller can return without waiting for the monitor's own exit.
// With --cgroup-fd (an init process) the container's cgroup comes on that
// socket from the caller, which creates it while the monitor starts up
// (cgroup/handover.h); without it the workload gets no cgroup of its own.

#include <string>

#include "common/error.h"
#include "personalities.h"

namespace reaper::monitor {

struct Options {
  std::string root, id, exec_id, bundle;
  int sync_fd = -1;
  int cgroup_fd = -1;  // --cgroup-fd; -1: no cgroup is coming
  bool have_stdio_paths = false;
  std::string stdin_path, stdout_path, stderr_path;
  std::string console_socket;
  std::string overlay_group;
  std::string netns;         // empty: the host's network
  int preserve_fds = 0;      // fds 3..3+N-1 go to the workload
  bool start = false;        // --start
  bool remove = false;       // --remove
  bool report_exit = false;  // --report-exit
};

Result<Options> parse_options(Args args);

// The N of --preserve-fds (the CLI's and the monitor's): a decimal count of
// fds from 3 on, at most max_preserved_fds.
inline constexpr int max_preserved_fds = 65536;
Result<int> parse_preserve_fds(std::string_view text);

}  // namespace reaper::monitor
