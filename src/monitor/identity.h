#pragma once
// Telling a process's real monitor from anything else. The state root is on
// the host's /run, which root workloads can write (docs/security.md): a
// record may name any pid as a monitor, and any process may bind a socket
// where a monitor's was (or hard-link another container's monitor socket
// there). Before the runtime takes a process for the monitor of (state
// root, container id, exec id), it checks that the process
//
//   - is alive and, when its record is known, started when the record says
//     (not a reused pid);
//   - runs reaper's executable: the same file as our /proc/self/exe, or a
//     deleted file of the same path (reaper was upgraded since it started);
//   - has a monitor's command line for exactly that process: argv[0]
//     `reaper-monitor`, --root naming the same directory (device and
//     inode), the same --id and --exec-id. Another container's genuine
//     monitor does not pass.
//
// This is not a boundary against root, which can run reaper's own binary or
// ptrace a monitor: it keeps reaper from acting on a process that is not the
// monitor a record or a socket claims, e.g. from killing or waiting for an
// unrelated process whose pid a forged record names.

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "common/error.h"

namespace reaper::monitor {

struct Identity {
  std::string root;         // the state root the monitor was started with
  std::string id;           // container id
  std::string exec_id;      // empty: the init process
  pid_t pid = 0;            // from its record; 0 when unknown (record unreadable)
  uint64_t start_time = 0;  // from its record, checked when pid is set
};

// Checks that `pid`, pinned by `pidfd` (opened by the caller before), is a
// live monitor of `who`. ESRCH when it has exited or is exiting, or is not
// the recorded process (another start time); EPERM, saying what differs,
// when it is some other process.
Status verify(int pidfd, pid_t pid, const Identity& who);

// True once `pidfd`'s process has exited, waiting at most `timeout_ms`.
bool exited_within(int pidfd, int timeout_ms);

}  // namespace reaper::monitor
