#pragma once
// reaper-monitor: the parent of exactly one workload process (init or exec).
//
// Fork-first: the runtime core starts the monitor (posix_spawn of
// /proc/self/exe; the CLI forks it in place: runtime/spawn_monitor.h). It
// becomes a session leader and child subreaper, sets up stdio (and the
// overlay view), forks the workload, writes the state record and reports
// `ok <pid>` on the sync fd. Then it runs a single-threaded epoll loop:
// signals arrive on a signalfd, requests on the control socket, the exec
// result on the child's report pipe, terminal bytes on the pty. When the
// workload exits it records {status, time} atomically in exit.json, ends
// every remaining descendant, drains and closes stdio, and exits. Nothing
// sleeps or polls.

#include "common/config.h"
#include "oci/spec.h"
#include "personalities.h"

namespace reaper::monitor {

// What a monitor forked in place (not exec'd) takes over from its parent
// instead of reading it again; null: read as an exec'd monitor does.
struct Preloaded {
  const oci::Spec* spec = nullptr;     // the bundle's config.json (init process only)
  const NodeConfig* config = nullptr;  // the node configuration
};

// `args` as the monitor's command line (argv[0] first), `envp` its
// environment (REAPER_* settings). Returns the exit status.
int run(Args args, const char* const* envp, const Preloaded& pre = {});

}  // namespace reaper::monitor
