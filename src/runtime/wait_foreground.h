#pragma once
// Waiting in the foreground (`run`, `exec` without --detach): blocks until
// the process's monitor exits, forwarding SIGINT, SIGTERM, SIGHUP and
// SIGQUIT to the workload meanwhile (the monitor is in its own session, so
// the terminal's signals reach only us). Waits on a signalfd and the
// monitor's pidfd; returns the exit record. `monitor`: a pidfd on it the
// caller already holds (create_started()); else it is looked up and checked.
// `report`: the monitor's exit report (Started::report), when it gives one:
// then the wait ends with its last line, and when the monitor has also
// deleted the state (`run` without --keep) nothing more is waited for.

#include <string>

#include "runtime/container.h"

namespace reaper::cli {

Result<state::ExitRecord> wait_foreground(const runtime::Context& ctx, const std::string& id,
                                          const std::string& exec_id, UniqueFd monitor = {},
                                          runtime::ExitReport report = {});

}  // namespace reaper::cli
