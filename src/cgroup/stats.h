#pragma once
// What a container uses, read from its cgroup (or estimated from /proc when
// it has none), and its encodings: io.containerd.cgroups.v1.Metrics or
// .v2.Metrics for the Stats RPC (the type matches the node's cgroup
// version: CRI decodes either).

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cgroup/cgroup.h"
#include "cgroup/layout.h"
#include "common/error.h"

namespace reaper::cgroup {

struct Stats {
  Version version = Version::v2;  // which Metrics type to encode
  bool from_proc = false;         // estimated from /proc: no cgroup

  uint64_t cpu_usage_ns = 0, cpu_user_ns = 0, cpu_kernel_ns = 0;
  std::vector<uint64_t> cpu_per_cpu_ns;  // v1 only
  uint64_t cpu_periods = 0, cpu_throttled_periods = 0, cpu_throttled_ns = 0;

  uint64_t memory_usage = 0;
  uint64_t memory_limit = 0;  // as the kernel reports it; UINT64_MAX for v2 "max"
  uint64_t memory_max_usage = 0, memory_failcnt = 0;
  uint64_t swap_usage = 0, swap_limit = 0, swap_max_usage = 0, swap_failcnt = 0;  // v1: memory+swap
  // memory.stat as the kernel names its keys (v1 "total_inactive_file", v2 "inactive_file").
  std::map<std::string, uint64_t, std::less<>> memory_stat;

  uint64_t pids_current = 0;
  uint64_t pids_limit = 0;  // 0: no limit

  uint64_t oom_kills = 0;
  uint64_t under_oom = 0, oom_kill_disable = 0;                // v1 memory.oom_control
  std::map<std::string, uint64_t, std::less<>> memory_events;  // v2 memory.events

  // usage minus inactive file pages: what kubelet evicts on.
  [[nodiscard]] uint64_t working_set() const;
};

// Reads the cgroup's files; an error when the cgroup is gone.
Result<Stats> read_stats(const Cgroup& cg);

// Estimates from /proc/<pid>/{stat,status} of `pids` (the container's
// processes): CPU is user+system time of the live processes plus what
// they reaped of their children's; memory is the sum of resident sets
// (shared pages counted once per process); pids counts threads.
Stats proc_stats(const std::vector<pid_t>& pids, Version v);

// A google.protobuf.Any's two fields.
struct MetricsAny {
  std::string type_url;  // "io.containerd.cgroups.v1.Metrics" or ".v2.Metrics"
  std::string value;     // the serialized message
};
MetricsAny to_metrics(const Stats& s);

inline constexpr std::string_view v1_metrics_type = "io.containerd.cgroups.v1.Metrics";
inline constexpr std::string_view v2_metrics_type = "io.containerd.cgroups.v2.Metrics";

}  // namespace reaper::cgroup
