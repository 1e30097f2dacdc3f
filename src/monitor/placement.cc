#include "monitor/placement.h"

#include "cgroup/handover.h"
#include "cgroup/record.h"

namespace reaper::monitor {

Result<cgroup::Cgroup> open_exec_cgroup(const NodeConfig& config, int container_dir) {
  if (!config.cgroups_enabled) return cgroup::Cgroup();
  auto rec = REAPER_TRY_CTX(cgroup::read_record(container_dir), "cgroup");
  if (!rec) return cgroup::Cgroup();
  if (rec->removed) return make_error("cgroup: the container's cgroup was removed: it has ended");
  REAPER_TRY_CTX(cgroup::verify_record(*rec), "cgroup");
  return REAPER_TRY_CTX(cgroup::Cgroup::open(*rec), "cgroup");
}

Result<cgroup::Cgroup> receive_container_cgroup(UniqueFd& channel) {
  auto cg = cgroup::receive_cgroup(channel.get());
  channel.reset();  // one message
  if (!cg.ok()) return std::move(cg).error().wrap("cgroup");
  return cg;
}

Status end_cgroup(cgroup::Cgroup& cg, int container_dir) {
  if (!cg.valid()) return {};
  Status killed = cg.kill_all(true);
  auto rec = cg.record();
  // Read while the directories exist; OOM watchers fall back to it.
  if (auto kills = cg.oom_kills(); kills.ok()) rec.final_oom_kills = *kills;
  REAPER_TRY_CTX(cgroup::write_record(container_dir, rec), "cgroup");
  REAPER_TRY_CTX(killed, "cgroup: end its processes");
  REAPER_TRY_CTX(cg.remove(), "cgroup");
  rec.removed = true;
  return cgroup::write_record(container_dir, rec);
}

}  // namespace reaper::monitor
