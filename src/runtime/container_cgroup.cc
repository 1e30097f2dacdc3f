#include "runtime/container_cgroup.h"

#include "cgroup/layout.h"
#include "cgroup/path.h"
#include "cgroup/record.h"
#include "cgroup/resources.h"

namespace reaper::runtime {

bool wants_cgroup(const NodeConfig& config, const oci::Spec& spec) {
  return config.cgroups_enabled && !spec.cgroups_path.empty();
}

Result<cgroup::Cgroup> create_container_cgroup(const oci::Spec& spec, int container_dir) {
  auto path = REAPER_TRY_CTX(cgroup::parse_cgroups_path(spec.cgroups_path), "cgroup");
  cgroup::Resources res;
  if (!spec.resources_json.empty())
    res = REAPER_TRY_CTX(cgroup::parse_resources(spec.resources_json, "linux.resources"), "cgroup");
  auto layout = REAPER_TRY_CTX(cgroup::detect_layout(), "cgroup");
  auto cg = REAPER_TRY_CTX(cgroup::Cgroup::create(layout, path, res), "cgroup");
  REAPER_TRY_CTX(cgroup::write_record(container_dir, cg.record()), "cgroup");
  return cg;
}

}  // namespace reaper::runtime
