// Statistics of a container without a cgroup (REAPER_CGROUPS=disabled, or
// no linux.cgroupsPath), estimated from /proc. The approximation, as
// docs/resources.md states it: CPU time is that of the live processes plus
// what they reaped of their children (time of processes that ended and were
// reaped by the monitor is lost); memory is the sum of resident set sizes,
// so pages shared between processes count once per process and page cache
// is not seen; there are no limits, throttling or OOM counters.

#include <unistd.h>

#include "cgroup/stats.h"
#include "common/fs.h"

namespace reaper::cgroup {

namespace {

struct ProcUsage {
  uint64_t user_ticks = 0, system_ticks = 0;
  uint64_t rss = 0, anon = 0, file = 0, shmem = 0;  // bytes
  uint64_t threads = 0;
};

// utime, stime, cutime, cstime: fields 14-17 of /proc/<pid>/stat.
void read_times(pid_t pid, ProcUsage& u) {
  auto text = fs::read_kernel_file(fmt::format("/proc/{}/stat", pid), 4096);
  if (!text.ok()) return;
  auto close = text->rfind(')');
  if (close == std::string::npos || close + 2 >= text->size()) return;
  auto fields = split(std::string_view(*text).substr(close + 2), ' ');  // [0] is field 3
  if (fields.size() < 15) return;
  for (size_t i = 11; i <= 14; ++i) {
    uint64_t v = parse_u64(fields[i]).value_or(0);
    (i == 11 || i == 13 ? u.user_ticks : u.system_ticks) += v;
  }
}

// "VmRSS:	  1234 kB" lines of /proc/<pid>/status.
void read_status(pid_t pid, ProcUsage& u) {
  auto text = fs::read_kernel_file(fmt::format("/proc/{}/status", pid), 16384);
  if (!text.ok()) return;
  for (std::string_view line : split(*text, '\n')) {
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = line.substr(0, colon);
    std::string_view value = trim(line.substr(colon + 1));
    bool kb = value.ends_with(" kB");
    if (kb) value.remove_suffix(3);
    uint64_t n = parse_u64(value).value_or(0) * (kb ? 1024 : 1);
    if (key == "VmRSS") u.rss += n;
    if (key == "RssAnon") u.anon += n;
    if (key == "RssFile") u.file += n;
    if (key == "RssShmem") u.shmem += n;
    if (key == "Threads") u.threads += n;
  }
}

}  // namespace

Stats proc_stats(const std::vector<pid_t>& pids, Version v) {
  ProcUsage u;
  for (pid_t p : pids) {
    read_times(p, u);
    read_status(p, u);
  }
  Stats s;
  s.version = v;
  s.from_proc = true;
  auto tick_ns = static_cast<uint64_t>(1000000000 / ::sysconf(_SC_CLK_TCK));
  s.cpu_user_ns = u.user_ticks * tick_ns;
  s.cpu_kernel_ns = u.system_ticks * tick_ns;
  s.cpu_usage_ns = s.cpu_user_ns + s.cpu_kernel_ns;
  s.memory_usage = u.rss;
  if (v == Version::v1) {
    s.memory_stat = {{"rss", u.anon},
                     {"cache", u.file + u.shmem},
                     {"total_rss", u.anon},
                     {"total_cache", u.file + u.shmem}};
  } else {
    s.memory_stat = {{"anon", u.anon}, {"file", u.file + u.shmem}, {"shmem", u.shmem}};
  }
  s.pids_current = u.threads;
  return s;
}

}  // namespace reaper::cgroup
