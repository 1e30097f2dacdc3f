#pragma once
// The workload child of a monitor. Forked from the (single-threaded)
// monitor, it sets up its session, stdio and identity, reports "ready" on
// the report pipe, blocks until the monitor releases it, then execs. Any
// failure is written to the report pipe as `E<exit code> <message>` before
// it exits; a successful exec closes the (close-on-exec) pipe, which the
// monitor reads as EOF.

#include <sys/types.h>

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

// Forks the child; returns once it reported ready (in `cg` if that is
// valid, in the network namespace `netns` if that is >= 0, identity applied)
// or failed, in which case the error says why and the child has exited.
Result<Child> spawn_child(const oci::Process& p, Stdio& stdio, const cgroup::Cgroup& cg,
                          int netns = -1);

}  // namespace reaper::monitor
