// The resources side of the runtime core: stats, update, the OOM watch and
// the cgroup backstop of delete. The cgroup itself is created by the core
// at create (container_cgroup.h), joined and removed by the monitors
// (monitor/placement.h); this side only reads the record in the
// container's state directory (cgroup.json).

#include "cgroup/resources.h"
#include "cgroup/cgroup.h"
#include "cgroup/layout.h"
#include "cgroup/record.h"
#include "runtime/container.h"

namespace reaper::runtime {

namespace {

Result<std::optional<cgroup::Record>> record_of(const Context& ctx, const std::string& id,
                                                UniqueFd* dir_out = nullptr) {
  auto dir = REAPER_TRY(ctx.store.open_dir(id));
  auto rec = REAPER_TRY_CTX(cgroup::read_record(dir.get()), "container `{}`", id);
  // A removed cgroup's directories are gone: nothing to act on, nothing to check.
  if (rec && !rec->removed) REAPER_TRY_CTX(cgroup::verify_record(*rec), "container `{}`", id);
  if (dir_out != nullptr) *dir_out = std::move(dir);
  return rec;
}

Error ended(const std::string& id) {
  return errno_error(ESRCH, "container `{}` has ended: its cgroup is gone", id);
}

// The Metrics type of a container without a cgroup follows the node's.
cgroup::Version node_version() {
  auto layout = cgroup::detect_layout();
  return layout.ok() ? layout->version : cgroup::Version::v2;
}

}  // namespace

Result<cgroup::Stats> read_stats(const Context& ctx, const std::string& id) {
  auto st = REAPER_TRY(get_state(ctx, id));
  auto rec = REAPER_TRY(record_of(ctx, id));
  if (!rec || !ctx.config.cgroups_enabled) {
    std::vector<pid_t> list;
    for (const auto& p : REAPER_TRY(pids(ctx, id))) list.push_back(p.pid);
    return cgroup::proc_stats(list, node_version());
  }
  if (rec->removed || st.status == ProcessStatus::stopped) return ended(id);
  auto cg = cgroup::Cgroup::open(*rec);
  if (!cg.ok()) {
    if (cg.error().err() == ENOENT) return ended(id);
    return std::move(cg).error().wrap(fmt::format("stats of `{}`", id));
  }
  return REAPER_TRY_CTX(cgroup::read_stats(*cg), "stats of `{}`", id);
}

Result<cgroup::MetricsAny> stats(const Context& ctx, const std::string& id) {
  return cgroup::to_metrics(REAPER_TRY(read_stats(ctx, id)));
}

Status update(const Context& ctx, const std::string& id, const std::string& resources_json) {
  auto res = cgroup::parse_resources(resources_json, "resources");
  if (!res.ok()) {
    auto err = std::move(res).error();
    return Error(EINVAL, err.message()).wrap(fmt::format("update `{}`", id));
  }
  if (!ctx.config.cgroups_enabled) return {};  // the administrator's choice: no cgroups
  auto rec = REAPER_TRY(record_of(ctx, id));
  if (!rec)
    return errno_error(ENOTSUP,
                       "update `{}`: the container has no cgroup (its config.json has no "
                       "linux.cgroupsPath)",
                       id);
  if (rec->removed) return ended(id);
  auto cg = cgroup::Cgroup::open(*rec);
  if (!cg.ok()) {
    if (cg.error().err() == ENOENT) return ended(id);
    return std::move(cg).error().wrap(fmt::format("update `{}`", id));
  }
  REAPER_TRY_CTX(cg->apply(*res), "update `{}`", id);
  return {};
}

Result<cgroup::OomWatch> watch_oom(const Context& ctx, const std::string& id) {
  UniqueFd dir;
  auto rec = REAPER_TRY(record_of(ctx, id, &dir));
  if (!rec || rec->removed || !ctx.config.cgroups_enabled) return cgroup::OomWatch();
  return REAPER_TRY_CTX(cgroup::OomWatch::open(*rec, std::move(dir)), "watch `{}` for OOM", id);
}

Status release_cgroup(const Context& ctx, const std::string& id) {
  UniqueFd dir;
  auto rec = REAPER_TRY(record_of(ctx, id, &dir));
  if (!rec || rec->removed) return {};
  REAPER_TRY_CTX(cgroup::kill_and_remove(*rec), "container `{}`", id);
  rec->removed = true;
  return cgroup::write_record(dir.get(), *rec);
}

}  // namespace reaper::runtime
