#pragma once
// Reading /proc: process start times (to tell a live process from a reused
// pid) and the tree of descendants of a process; and rewriting this
// process's own command line, as /proc shows it.

#include <sys/types.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace reaper::proc {

struct Stat {
  pid_t pid = 0;
  pid_t ppid = 0;
  char state = '?';
  uint64_t start_time = 0;  // field 22, clock ticks since boot
  uint64_t arg_start = 0;   // fields 48 and 49: where the command line lies
  uint64_t arg_end = 0;     // in the process's memory (0 when not shown)
};

// Parses /proc/<pid>/stat (robust to ')' and spaces in the command name).
Result<Stat> read_stat(pid_t pid);

// True when `pid` is alive (not a zombie) and started at `start_time`.
bool is_same_process(pid_t pid, uint64_t start_time);

// All live descendants of `root` (children first), read from /proc.
std::vector<pid_t> descendants(pid_t root);

// Makes /proc/self/cmdline (what `ps` shows) read `argv`, for a process
// forked without an exec, which would otherwise show its parent's command
// line. Written in place, in the room of the original arguments (no
// capability needed, unlike prctl PR_SET_MM): what does not fit is cut,
// the rest of the room is zeroed, so the text may end in empty arguments.
Status rewrite_command_line(std::initializer_list<std::string_view> argv);

}  // namespace reaper::proc
