#pragma once
// The runtime core's side of a process's monitor (internal to src/runtime):
// taken from its record only once checked to be that process's monitor
// (monitor/identity.h), waited for through a pidfd, and, when a record
// cannot be trusted, found through the peer of its socket.

#include <sys/types.h>

#include <string>

#include "common/error.h"
#include "common/fd.h"
#include "monitor/identity.h"
#include "runtime/container.h"
#include "state/record.h"

namespace reaper::runtime {

// Who the monitor of (id, exec_id) must be, with the pid and start time its
// record names. The ids are the caller's (validated), never the record's.
monitor::Identity identity_of(const Context& ctx, const std::string& id, const std::string& exec_id,
                              const state::ProcessRecord& r);

// The recorded monitor's pidfd: valid when it is that monitor, alive, or
// exited and not yet reaped (readable then; its parent reaps it through the
// pidfd); invalid when it is gone. EPERM when the record names a live
// process that is not that monitor.
Result<UniqueFd> recorded_monitor(const monitor::Identity& who);

// Whether the recorded monitor is alive (checked); EPERM as above.
Result<bool> monitor_alive(const monitor::Identity& who);

// Blocks until a pidfd's process has exited (poll, no timeout).
Status wait_pidfd(int pidfd);

// Ends the monitor that listens on `dirfd`'s socket, whatever the records
// say: the peer is checked to be the monitor of `who` (its pid is not
// known: the record was unreadable or named some other process), asked to
// kill everything ("kill 9 1") and waited for. Nothing to do (ok) when no
// monitor listens; EPERM when something else does.
Status end_through_socket(int dirfd, const monitor::Identity& who);

}  // namespace reaper::runtime
