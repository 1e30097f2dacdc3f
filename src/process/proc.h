#pragma once
// Reading /proc: process start times (to tell a live process from a reused
// pid) and the tree of descendants of a process.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "common/error.h"

namespace reaper::proc {

struct Stat {
  pid_t pid = 0;
  pid_t ppid = 0;
  char state = '?';
  uint64_t start_time = 0;  // field 22, clock ticks since boot
};

// Parses /proc/<pid>/stat (robust to ')' and spaces in the command name).
Result<Stat> read_stat(pid_t pid);

// True when `pid` is alive (not a zombie) and started at `start_time`.
bool is_same_process(pid_t pid, uint64_t start_time);

// All live descendants of `root` (children first), read from /proc.
std::vector<pid_t> descendants(pid_t root);

}  // namespace reaper::proc
