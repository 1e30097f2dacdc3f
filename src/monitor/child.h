#pragma once
// The workload child of a monitor. Forked from the (single-threaded)
// monitor, it sets up its session, stdio and identity, reports "ready" on
// the report pipe, blocks until the monitor releases it (or, released at
// once, goes straight on), then execs. Any failure is written to the report
// pipe as `E<exit code> <message>` before it exits; a successful exec closes
// the (close-on-exec) pipe, which the monitor reads as EOF.

#include <sys/types.h>

#include <optional>

#include "cgroup/cgroup.h"
#include "common/error.h"
#include "monitor/stdio.h"
#include "oci/spec.h"

namespace reaper::monitor {

struct Child {
  pid_t pid = 0;
  UniqueFd report;  // read end: "R", then EOF (exec ok) or "E<code> <msg>"
  UniqueFd start;   // write end: one byte releases the workload; closing it aborts
};

// When the workload may exec: once the monitor writes to `start` (create,
// then start), or as soon as it is ready (`--start`: the CLI's run and exec,
// which save the start round trip).
enum class Release { on_start, at_once };

// Forks the child (in `cg` if that is valid, in the network namespace
// `netns` if that is >= 0, identity applied, with the monitor's fds 3 to
// 3+preserve_fds-1 kept open across its exec). `on_start`: returns once it
// reported ready, or failed, in which case the error says why and the child
// has been reaped. `at_once`: returns right after the fork, so that the
// monitor's bookkeeping overlaps the child's set-up; await_exec() reads the
// outcome.
Result<Child> spawn_child(const oci::Process& p, Stdio& stdio, const cgroup::Cgroup& cg, int netns,
                          int preserve_fds, Release release);

// The outcome of a child released at once, read to the end of its report
// (blocks until it has exec'd or exited). An error: its set-up failed, it
// has been reaped and nothing of it runs. Otherwise the exec's failure, if
// it failed (the child then exits with 126/127 and is reaped as usual).
Result<std::optional<Error>> await_exec(Child& child);

}  // namespace reaper::monitor
