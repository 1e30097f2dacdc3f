#include "monitor/placement.h"

#include "cgroup/layout.h"
#include "cgroup/path.h"
#include "cgroup/record.h"
#include "cgroup/resources.h"

namespace reaper::monitor {

namespace {

// CRI's pod sandbox: the pod-level cgroup is kubelet's, the (simulated)
// pause container gets none.
bool is_sandbox(const oci::Spec& spec) {
  auto it = spec.annotations.find("io.kubernetes.cri.container-type");
  return it != spec.annotations.end() && it->second == "sandbox";
}

Result<cgroup::Cgroup> create_for_container(const oci::Spec& spec, int container_dir) {
  auto path = REAPER_TRY(cgroup::parse_cgroups_path(spec.cgroups_path));
  cgroup::Resources res;
  if (!spec.resources_json.empty())
    res = REAPER_TRY(cgroup::parse_resources(spec.resources_json, "linux.resources"));
  auto layout = REAPER_TRY(cgroup::detect_layout());
  auto cg = REAPER_TRY(cgroup::Cgroup::create(layout, path, res));
  REAPER_TRY(cgroup::write_record(container_dir, cg.record()));
  return cg;
}

Result<cgroup::Cgroup> open_for_exec(int container_dir) {
  auto rec = REAPER_TRY(cgroup::read_record(container_dir));
  if (!rec) return cgroup::Cgroup();
  if (rec->removed) return make_error("the container's cgroup was removed: it has ended");
  REAPER_TRY(cgroup::verify_record(*rec));
  return cgroup::Cgroup::open(*rec);
}

}  // namespace

Result<cgroup::Cgroup> prepare_cgroup(const NodeConfig& config, const Options& o,
                                      const oci::Spec& spec, int container_dir) {
  if (!config.cgroups_enabled) return cgroup::Cgroup();
  if (!o.exec_id.empty()) return REAPER_TRY_CTX(open_for_exec(container_dir), "cgroup");
  // Without linux.cgroupsPath (the CLI by hand) no cgroup, as the original.
  if (spec.cgroups_path.empty() || is_sandbox(spec)) return cgroup::Cgroup();
  return REAPER_TRY_CTX(create_for_container(spec, container_dir), "cgroup");
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
