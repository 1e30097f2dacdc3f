#pragma once
// A container's cgroup, created by the runtime core (CLI or shim) while the
// monitor it just spawned starts up, handed to that monitor: one message on
// a SOCK_SEQPACKET socket pair, the cgroup's record (cgroup.json's JSON) with
// the fd of every directory and of its parent attached (SCM_RIGHTS).
//
// Why the core creates it: a v1 cgroup is a mkdir in every hierarchy (six
// here) after /proc/self/mountinfo was read, half a millisecond of kernel
// work; done by the core it overlaps the monitor's exec and set-up instead of
// following them (docs/performance.md). Why the monitor gets fds, not paths:
// it may have entered the overlay view by then, and nothing is looked up twice.
//
// Who removes it: the core until the monitor has reported `ok` (a monitor
// whose set-up failed leaves the cgroup, emptied, to the core, which removes
// it once the monitor has exited); the monitor from then on, when the
// container ends (monitor/placement.h).

#include "cgroup/cgroup.h"
#include "common/error.h"

namespace reaper::cgroup {

Status send_cgroup(int sock, const Cgroup& cg);

// Blocks until the core sends the cgroup or closes its end (it could not
// create it; its own error is the one the user gets).
Result<Cgroup> receive_cgroup(int sock);

}  // namespace reaper::cgroup
