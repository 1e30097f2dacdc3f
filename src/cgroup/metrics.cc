// Stats -> io.containerd.cgroups.v1.Metrics / .v2.Metrics. memory.stat keys
// map to fields by table: the protobuf lite runtime has no reflection.

#include "cgroup/stats.h"
#include "cgroups_v1_metrics.pb.h"
#include "cgroups_v2_metrics.pb.h"

namespace reaper::cgroup {

namespace {

namespace v1 = io::containerd::cgroups::v1;
namespace v2 = io::containerd::cgroups::v2;

template <typename Message>
struct StatField {
  std::string_view key;
  void (Message::*set)(uint64_t);
};

constexpr StatField<v1::MemoryStat> v1_fields[] = {
    {"cache", &v1::MemoryStat::set_cache},
    {"rss", &v1::MemoryStat::set_rss},
    {"rss_huge", &v1::MemoryStat::set_rss_huge},
    {"mapped_file", &v1::MemoryStat::set_mapped_file},
    {"dirty", &v1::MemoryStat::set_dirty},
    {"writeback", &v1::MemoryStat::set_writeback},
    {"pgpgin", &v1::MemoryStat::set_pg_pg_in},
    {"pgpgout", &v1::MemoryStat::set_pg_pg_out},
    {"pgfault", &v1::MemoryStat::set_pg_fault},
    {"pgmajfault", &v1::MemoryStat::set_pg_maj_fault},
    {"inactive_anon", &v1::MemoryStat::set_inactive_anon},
    {"active_anon", &v1::MemoryStat::set_active_anon},
    {"inactive_file", &v1::MemoryStat::set_inactive_file},
    {"active_file", &v1::MemoryStat::set_active_file},
    {"unevictable", &v1::MemoryStat::set_unevictable},
    {"hierarchical_memory_limit", &v1::MemoryStat::set_hierarchical_memory_limit},
    {"hierarchical_memsw_limit", &v1::MemoryStat::set_hierarchical_swap_limit},
    {"total_cache", &v1::MemoryStat::set_total_cache},
    {"total_rss", &v1::MemoryStat::set_total_rss},
    {"total_rss_huge", &v1::MemoryStat::set_total_rss_huge},
    {"total_mapped_file", &v1::MemoryStat::set_total_mapped_file},
    {"total_dirty", &v1::MemoryStat::set_total_dirty},
    {"total_writeback", &v1::MemoryStat::set_total_writeback},
    {"total_pgpgin", &v1::MemoryStat::set_total_pg_pg_in},
    {"total_pgpgout", &v1::MemoryStat::set_total_pg_pg_out},
    {"total_pgfault", &v1::MemoryStat::set_total_pg_fault},
    {"total_pgmajfault", &v1::MemoryStat::set_total_pg_maj_fault},
    {"total_inactive_anon", &v1::MemoryStat::set_total_inactive_anon},
    {"total_active_anon", &v1::MemoryStat::set_total_active_anon},
    {"total_inactive_file", &v1::MemoryStat::set_total_inactive_file},
    {"total_active_file", &v1::MemoryStat::set_total_active_file},
    {"total_unevictable", &v1::MemoryStat::set_total_unevictable},
};

constexpr StatField<v2::MemoryStat> v2_fields[] = {
    {"anon", &v2::MemoryStat::set_anon},
    {"file", &v2::MemoryStat::set_file},
    {"kernel_stack", &v2::MemoryStat::set_kernel_stack},
    {"slab", &v2::MemoryStat::set_slab},
    {"sock", &v2::MemoryStat::set_sock},
    {"shmem", &v2::MemoryStat::set_shmem},
    {"file_mapped", &v2::MemoryStat::set_file_mapped},
    {"file_dirty", &v2::MemoryStat::set_file_dirty},
    {"file_writeback", &v2::MemoryStat::set_file_writeback},
    {"anon_thp", &v2::MemoryStat::set_anon_thp},
    {"inactive_anon", &v2::MemoryStat::set_inactive_anon},
    {"active_anon", &v2::MemoryStat::set_active_anon},
    {"inactive_file", &v2::MemoryStat::set_inactive_file},
    {"active_file", &v2::MemoryStat::set_active_file},
    {"unevictable", &v2::MemoryStat::set_unevictable},
    {"slab_reclaimable", &v2::MemoryStat::set_slab_reclaimable},
    {"slab_unreclaimable", &v2::MemoryStat::set_slab_unreclaimable},
    {"pgfault", &v2::MemoryStat::set_pgfault},
    {"pgmajfault", &v2::MemoryStat::set_pgmajfault},
    {"workingset_refault", &v2::MemoryStat::set_workingset_refault},
    {"workingset_activate", &v2::MemoryStat::set_workingset_activate},
    {"workingset_nodereclaim", &v2::MemoryStat::set_workingset_nodereclaim},
    {"pgrefill", &v2::MemoryStat::set_pgrefill},
    {"pgscan", &v2::MemoryStat::set_pgscan},
    {"pgsteal", &v2::MemoryStat::set_pgsteal},
    {"pgactivate", &v2::MemoryStat::set_pgactivate},
    {"pgdeactivate", &v2::MemoryStat::set_pgdeactivate},
    {"pglazyfree", &v2::MemoryStat::set_pglazyfree},
    {"pglazyfreed", &v2::MemoryStat::set_pglazyfreed},
    {"thp_fault_alloc", &v2::MemoryStat::set_thp_fault_alloc},
    {"thp_collapse_alloc", &v2::MemoryStat::set_thp_collapse_alloc},
};

template <typename Message, size_t N>
void set_stat(const StatField<Message> (&fields)[N], const Stats& s, Message& m) {
  for (const auto& f : fields) {
    auto it = s.memory_stat.find(f.key);
    if (it != s.memory_stat.end()) (m.*f.set)(it->second);
  }
}

uint64_t event(const Stats& s, std::string_view key) {
  auto it = s.memory_events.find(key);
  return it == s.memory_events.end() ? 0 : it->second;
}

std::string encode_v1(const Stats& s) {
  v1::Metrics m;
  m.mutable_pids()->set_current(s.pids_current);
  m.mutable_pids()->set_limit(s.pids_limit);
  auto* usage = m.mutable_cpu()->mutable_usage();
  usage->set_total(s.cpu_usage_ns);
  usage->set_kernel(s.cpu_kernel_ns);
  usage->set_user(s.cpu_user_ns);
  for (uint64_t v : s.cpu_per_cpu_ns) usage->add_per_cpu(v);
  auto* throttle = m.mutable_cpu()->mutable_throttling();
  throttle->set_periods(s.cpu_periods);
  throttle->set_throttled_periods(s.cpu_throttled_periods);
  throttle->set_throttled_time(s.cpu_throttled_ns);
  auto* mem = m.mutable_memory();
  set_stat(v1_fields, s, *mem);
  mem->mutable_usage()->set_usage(s.memory_usage);
  mem->mutable_usage()->set_limit(s.memory_limit);
  mem->mutable_usage()->set_max(s.memory_max_usage);
  mem->mutable_usage()->set_failcnt(s.memory_failcnt);
  mem->mutable_swap()->set_usage(s.swap_usage);
  mem->mutable_swap()->set_limit(s.swap_limit);
  mem->mutable_swap()->set_max(s.swap_max_usage);
  mem->mutable_swap()->set_failcnt(s.swap_failcnt);
  auto* oom = m.mutable_memory_oom_control();
  oom->set_oom_kill_disable(s.oom_kill_disable);
  oom->set_under_oom(s.under_oom);
  oom->set_oom_kill(s.oom_kills);
  return m.SerializeAsString();
}

std::string encode_v2(const Stats& s) {
  v2::Metrics m;
  m.mutable_pids()->set_current(s.pids_current);
  m.mutable_pids()->set_limit(s.pids_limit);
  auto* cpu = m.mutable_cpu();
  cpu->set_usage_usec(s.cpu_usage_ns / 1000);
  cpu->set_user_usec(s.cpu_user_ns / 1000);
  cpu->set_system_usec(s.cpu_kernel_ns / 1000);
  cpu->set_nr_periods(s.cpu_periods);
  cpu->set_nr_throttled(s.cpu_throttled_periods);
  cpu->set_throttled_usec(s.cpu_throttled_ns / 1000);
  auto* mem = m.mutable_memory();
  set_stat(v2_fields, s, *mem);
  mem->set_usage(s.memory_usage);
  mem->set_usage_limit(s.memory_limit);
  mem->set_swap_usage(s.swap_usage);
  mem->set_swap_limit(s.swap_limit);
  mem->set_max_usage(s.memory_max_usage);
  mem->set_swap_max_usage(s.swap_max_usage);
  auto* ev = m.mutable_memory_events();
  ev->set_low(event(s, "low"));
  ev->set_high(event(s, "high"));
  ev->set_max(event(s, "max"));
  ev->set_oom(event(s, "oom"));
  ev->set_oom_kill(event(s, "oom_kill"));
  return m.SerializeAsString();
}

}  // namespace

MetricsAny to_metrics(const Stats& s) {
  if (s.version == Version::v1) return {std::string(v1_metrics_type), encode_v1(s)};
  return {std::string(v2_metrics_type), encode_v2(s)};
}

}  // namespace reaper::cgroup
