#pragma once
// linux.resources (OCI LinuxResources JSON), the part of it CRI sends, and
// how each value becomes a write to a cgroup file on v1 and on v2.
//
//   OCI                   v1 file                          v2 file
//   memory.limit          memory.limit_in_bytes            memory.max
//   memory.reservation    memory.soft_limit_in_bytes       memory.low
//   memory.swap (mem+swap) memory.memsw.limit_in_bytes     memory.swap.max (swap - limit)
//   cpu.shares            cpu.shares                       cpu.weight (1 + (shares-2)*9999/262142)
//   cpu.quota/period      cpu.cfs_quota_us/cfs_period_us   cpu.max "quota period"
//   cpu.cpus/mems         cpuset.cpus/cpuset.mems          cpuset.cpus/cpuset.mems
//   pids.limit            pids.max                         pids.max
//   unified               (refused)                        the named files
//
// Absent fields are left alone (which is what `update` needs); 0 means
// absent where runc says so. Values the kernel would refuse or silently
// clamp are errors here, before anything is created, and name the JSON path
// (`linux.resources.cpu.period: 500 is outside 1000..1000000`). The rest of
// LinuxResources (devices, blockIO, hugepageLimits, network, rdma, realtime
// cpu, kernel memory) is accepted and ignored: docs/resources.md says why.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cgroup/layout.h"
#include "common/error.h"

namespace reaper::cgroup {

struct Resources {
  std::optional<int64_t> memory_limit;        // bytes; -1 = unlimited
  std::optional<int64_t> memory_reservation;  // bytes; -1 = none
  std::optional<int64_t> memory_swap;         // memory + swap, bytes; -1 = unlimited
  std::optional<uint64_t> cpu_shares;         // 2..262144
  std::optional<int64_t> cpu_quota;           // us per period; -1 = unlimited
  std::optional<uint64_t> cpu_period;         // us, 1000..1000000
  std::optional<int64_t> cpu_rt_runtime;      // us per rt period, v1 only; -1 = unlimited
  std::optional<uint64_t> cpu_rt_period;      // us, v1 only
  std::optional<std::string> cpuset_cpus;     // "0-3,5"
  std::optional<std::string> cpuset_mems;
  std::optional<int64_t> pids_limit;  // <= 0 (except absent 0) = unlimited
  std::map<std::string, std::string> unified;

  [[nodiscard]] bool empty() const;
};

// Parses LinuxResources JSON; `origin` prefixes the JSON paths in errors
// ("linux.resources" for a spec, "resources" for an update).
Result<Resources> parse_resources(std::string_view json, std::string_view origin);

// One file write. Writes of one step are tried in order; if the first one
// fails with EINVAL they are tried once more in reverse order (memory and
// memory+swap, cpu period and quota: which order the kernel accepts depends
// on the current values).
struct Write {
  std::string controller;  // which v1 hierarchy; informative on v2
  std::string file;
  std::string value;
  // The file may be missing (no swap accounting) when the value asks for
  // nothing beyond the default; then the write is skipped.
  bool optional = false;
};
struct Step {
  std::vector<Write> writes;
};

Result<std::vector<Step>> plan(const Resources& r, Version v);

// cgroup v1 cpu.shares to v2 cpu.weight, as runc and kubelet convert:
// [2, 262144] -> [1, 10000].
uint64_t shares_to_weight(uint64_t shares);

}  // namespace reaper::cgroup
