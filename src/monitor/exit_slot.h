#pragma once
// exit.json's room, reserved when the process is created. The monitor
// creates `.exit.json.slot` (one page, written) during setup, before the
// workload exists; at the end it writes the exit record over the start of
// that file, truncates it to the record and renames it to exit.json.
// Recording the exit then allocates nothing, so a state filesystem that
// filled up while the workload ran still takes it; a full one at create
// fails the create, with nothing left behind. A slot that is missing or
// was replaced by something else than a regular file is not used: a new
// temp file is, as for any record. When even that fails (a read-only
// filesystem), the monitor's own exit status still carries the workload's
// to its parent (runtime/container.h, MonitorExit).

#include <cstddef>
#include <string_view>

#include "common/error.h"

namespace reaper::monitor {

inline constexpr const char* exit_slot_name = ".exit.json.slot";
inline constexpr size_t exit_slot_size = 4096;

// Creates the slot in `dirfd`; ENOSPC (or any error) removes it again.
Status reserve_exit_slot(int dirfd);
// Writes `json` to `dirfd`/exit.json atomically, through the slot.
Status write_exit_record(int dirfd, std::string_view json);

}  // namespace reaper::monitor
