#include "monitor/placement.h"

#include "cgroup/handover.h"
#include "cgroup/record.h"

namespace reaper::monitor {

Result<cgroup::Cgroup> open_exec_cgroup(int container_dir) {
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

Status end_cgroup(cgroup::Cgroup& cg, int container_dir, bool record) {
  if (!cg.valid()) return {};
  auto rec = cg.record();
  // Read while the directories exist; OOM watchers fall back to it.
  if (auto kills = cg.oom_kills(); kills.ok()) rec.final_oom_kills = *kills;
  if (record) REAPER_TRY_CTX(cgroup::write_record(container_dir, rec), "cgroup");
  // The caller killed what was in it and reaped its own descendants: it is
  // empty unless a process joined since (an exec's child) or is still
  // exiting. rmdir says which (EBUSY), without reading every cgroup.procs.
  if (!cg.remove().ok()) {
    REAPER_TRY_CTX(cg.kill_all(true), "cgroup: end its processes");
    REAPER_TRY_CTX(cg.remove(), "cgroup");
  }
  rec.removed = true;
  if (!record) return {};
  return cgroup::write_record(container_dir, rec);
}

}  // namespace reaper::monitor
