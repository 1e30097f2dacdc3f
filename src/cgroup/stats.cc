// Reading a cgroup's statistics files. Missing files read as zero (a v1
// node without swap accounting has no memsw files, kernels before 5.19
// have no memory.peak); only a vanished cgroup is an error.

#include "cgroup/stats.h"

#include <unistd.h>

#include <limits>

namespace reaper::cgroup {

namespace {

uint64_t number(const CgroupDir* dir, std::string_view file) {
  if (dir == nullptr) return 0;
  auto text = dir->read(file);
  if (!text.ok()) return 0;
  return parse_u64(*text).value_or(0);
}

// A limit: "max" reads as `unlimited`.
uint64_t limit(const CgroupDir* dir, std::string_view file, uint64_t unlimited) {
  if (dir == nullptr) return 0;
  auto text = dir->read(file);
  if (!text.ok()) return 0;
  if (trim(*text) == "max") return unlimited;
  return parse_u64(*text).value_or(0);
}

std::map<std::string, uint64_t, std::less<>> keyed(const CgroupDir* dir, std::string_view file) {
  if (dir == nullptr) return {};
  auto text = dir->read(file);
  if (!text.ok()) return {};
  return parse_keyed(*text);
}

uint64_t get(const std::map<std::string, uint64_t, std::less<>>& m, std::string_view key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

void read_v1_cpu(const Cgroup& cg, Stats& s) {
  const CgroupDir* acct = cg.dir_for("cpuacct");
  s.cpu_usage_ns = number(acct, "cpuacct.usage");
  if (acct != nullptr && acct->exists("cpuacct.usage_user")) {
    s.cpu_user_ns = number(acct, "cpuacct.usage_user");
    s.cpu_kernel_ns = number(acct, "cpuacct.usage_sys");
  } else {
    // cpuacct.stat counts USER_HZ ticks.
    auto stat = keyed(acct, "cpuacct.stat");
    auto tick_ns = static_cast<uint64_t>(1000000000 / ::sysconf(_SC_CLK_TCK));
    s.cpu_user_ns = get(stat, "user") * tick_ns;
    s.cpu_kernel_ns = get(stat, "system") * tick_ns;
  }
  if (acct != nullptr) {
    if (auto text = acct->read("cpuacct.usage_percpu"); text.ok()) {
      for (std::string_view v : split(trim(*text), ' '))
        if (auto n = parse_u64(v)) s.cpu_per_cpu_ns.push_back(*n);
    }
  }
  auto stat = keyed(cg.dir_for("cpu"), "cpu.stat");
  s.cpu_periods = get(stat, "nr_periods");
  s.cpu_throttled_periods = get(stat, "nr_throttled");
  s.cpu_throttled_ns = get(stat, "throttled_time");
}

void read_v1_memory(const Cgroup& cg, Stats& s) {
  const CgroupDir* mem = cg.dir_for("memory");
  s.memory_usage = number(mem, "memory.usage_in_bytes");
  s.memory_limit = number(mem, "memory.limit_in_bytes");
  s.memory_max_usage = number(mem, "memory.max_usage_in_bytes");
  s.memory_failcnt = number(mem, "memory.failcnt");
  s.swap_usage = number(mem, "memory.memsw.usage_in_bytes");
  s.swap_limit = number(mem, "memory.memsw.limit_in_bytes");
  s.swap_max_usage = number(mem, "memory.memsw.max_usage_in_bytes");
  s.swap_failcnt = number(mem, "memory.memsw.failcnt");
  s.memory_stat = keyed(mem, "memory.stat");
  auto oom = keyed(mem, "memory.oom_control");
  s.oom_kills = get(oom, "oom_kill");
  s.under_oom = get(oom, "under_oom");
  s.oom_kill_disable = get(oom, "oom_kill_disable");
}

void read_v2(const Cgroup& cg, Stats& s) {
  const CgroupDir* dir = cg.dir_for("");
  auto cpu = keyed(dir, "cpu.stat");
  s.cpu_usage_ns = get(cpu, "usage_usec") * 1000;
  s.cpu_user_ns = get(cpu, "user_usec") * 1000;
  s.cpu_kernel_ns = get(cpu, "system_usec") * 1000;
  s.cpu_periods = get(cpu, "nr_periods");
  s.cpu_throttled_periods = get(cpu, "nr_throttled");
  s.cpu_throttled_ns = get(cpu, "throttled_usec") * 1000;
  constexpr uint64_t unlimited = std::numeric_limits<uint64_t>::max();
  s.memory_usage = number(dir, "memory.current");
  s.memory_limit = limit(dir, "memory.max", unlimited);
  s.memory_max_usage = number(dir, "memory.peak");
  s.swap_usage = number(dir, "memory.swap.current");
  s.swap_limit = limit(dir, "memory.swap.max", unlimited);
  s.swap_max_usage = number(dir, "memory.swap.peak");
  s.memory_stat = keyed(dir, "memory.stat");
  s.memory_events = keyed(dir, "memory.events");
  s.oom_kills = get(s.memory_events, "oom_kill");
}

}  // namespace

uint64_t Stats::working_set() const {
  std::string_view key =
      version == Version::v1 && !from_proc ? "total_inactive_file" : "inactive_file";
  uint64_t inactive = get(memory_stat, key);
  return memory_usage > inactive ? memory_usage - inactive : 0;
}

Result<Stats> read_stats(const Cgroup& cg) {
  if (!cg.valid()) return make_error("no cgroup");
  // A cgroup that was removed has no files left: say so instead of zeros.
  const CgroupDir* any = cg.dir_for(cg.version() == Version::v1 ? "memory" : "");
  if (any == nullptr) any = cg.dir_for("cpuacct");
  if (any != nullptr) REAPER_TRY_CTX(any->read("cgroup.procs"), "read the cgroup's statistics");
  Stats s;
  s.version = cg.version();
  if (s.version == Version::v1) {
    read_v1_cpu(cg, s);
    read_v1_memory(cg, s);
  } else {
    read_v2(cg, s);
  }
  const CgroupDir* pids = cg.dir_for("pids");
  s.pids_current = number(pids, "pids.current");
  s.pids_limit = limit(pids, "pids.max", 0);
  return s;
}

}  // namespace reaper::cgroup
