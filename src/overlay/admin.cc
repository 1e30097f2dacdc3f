// `reaper-runtime overlay list | reset <group> [--force] | gc`: the
// administrator's view of the overlay groups on this node, from the files
// under the overlay base and the ns dir alone (no cluster API).

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "common/fs.h"
#include "overlay/internal.h"
#include "overlay/kernel.h"

namespace reaper::overlay {

namespace {

constexpr std::string_view usage_text =
    "usage: reaper-runtime overlay list\n"
    "       reaper-runtime overlay reset <group> [--force]\n"
    "       reaper-runtime overlay gc\n"
    "\n"
    "  list    the overlay groups of this node: namespace state, size of the upper\n"
    "          layer, containers using each\n"
    "  reset   drop a group's namespace and its upper layer (all files written in\n"
    "          it); refused while a container uses it, unless --force\n"
    "  gc      reset every group that no container uses\n";

void add_entries(const std::string& dir, std::set<std::string>& out) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (validate_group(name).ok()) out.insert(name);
  }
  ::closedir(d);
}

std::vector<std::string> known_groups(const NodeConfig& cfg) {
  std::set<std::string> names;
  add_entries(cfg.overlay_base_dir(), names);
  add_entries(cfg.ns_dir(), names);
  add_entries(cfg.ns_dir() + "/.anchors", names);
  add_entries(cfg.ns_dir() + "/.users", names);
  return {names.begin(), names.end()};
}

struct GroupStatus {
  std::string state;  // active | anchored (pid) | inactive
  uint64_t upper_bytes = 0;
  std::vector<std::string> containers;
};

Result<std::vector<UserEntry>> live_users(const GroupPaths& p) {
  UniqueFd dir(::open(p.users_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) {
    if (errno == ENOENT) return std::vector<UserEntry>();
    return sys_error("open `{}`", p.users_dir);
  }
  auto users = REAPER_TRY(read_users(dir.get(), p.group));
  std::vector<UserEntry> live;
  for (auto& u : users)
    if (u.alive()) live.push_back(std::move(u));
  return live;
}

Result<GroupStatus> status_of(const NodeConfig& cfg, const std::string& group) {
  auto p = paths_for(cfg, group);
  GroupStatus s;
  auto ns = REAPER_TRY(open_namespace(p));
  if (!ns) {
    s.state = "inactive";
  } else {
    auto type = kernel::fs_type(p.ns_file);
    s.state = type.ok() && *type == kernel::nsfs_magic ? "active" : "anchored";
  }
  s.upper_bytes = kernel::tree_usage(p.upper);
  std::set<std::string> ids;
  for (const auto& u : REAPER_TRY(live_users(p))) ids.insert(u.container_id);
  s.containers.assign(ids.begin(), ids.end());
  return s;
}

std::string human_size(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  if (u == 0) return fmt::format("{} B", bytes);
  return fmt::format("{:.1f} {}", v, units[u]);
}

std::string join(const std::vector<std::string>& v) {
  if (v.empty()) return "-";
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += ',';
    out += s;
  }
  return out;
}

int cmd_list(const NodeConfig& cfg) {
  int rc = 0;
  fmt::print("{:<40} {:<10} {:>10}  {}\n", "GROUP", "NAMESPACE", "UPPER", "CONTAINERS");
  for (const auto& g : known_groups(cfg)) {
    auto s = status_of(cfg, g);
    if (!s) {
      fmt::print(stderr, "reaper-runtime overlay list: `{}`: {}\n", g, s.error().what());
      rc = 1;
      continue;
    }
    fmt::print("{:<40} {:<10} {:>10}  {}\n", g, s->state, human_size(s->upper_bytes),
               join(s->containers));
  }
  std::fflush(stdout);
  return rc;
}

}  // namespace

// Drops a group: its namespace handle (the namespace ends with its last
// process) and its directory with the upper layer.
Status reset_group(const NodeConfig& cfg, const std::string& group, bool force) {
  REAPER_TRY(validate_group(group));
  auto p = paths_for(cfg, group);
  REAPER_TRY(fs::mkdir_p(cfg.ns_dir() + "/.locks", 0700));
  auto lock = REAPER_TRY(FileLock::acquire(p.lock_file));
  auto live = REAPER_TRY(live_users(p));
  if (!live.empty() && !force) {
    std::set<std::string> ids;
    for (const auto& u : live) ids.insert(u.container_id);
    return errno_error(EBUSY, "overlay `{}` is used by {}; stop them first or use --force", group,
                       join({ids.begin(), ids.end()}));
  }
  REAPER_TRY_CTX(drop_namespace(p), "overlay `{}`", group);
  REAPER_TRY_CTX(kernel::remove_tree(p.dir), "overlay `{}`", group);
  if (::unlink((p.users_dir + "/" + group).c_str()) < 0 && errno != ENOENT)
    return sys_error("overlay `{}`: remove its users", group);
  return {};
}

namespace {

int cmd_reset(const NodeConfig& cfg, const std::vector<std::string>& args) {
  std::string group;
  bool force = false;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--force" || args[i] == "-f") {
      force = true;
    } else if (group.empty() && !args[i].empty() && args[i][0] != '-') {
      group = args[i];
    } else {
      fmt::print(stderr, "reaper-runtime overlay reset: unexpected argument `{}`\n{}", args[i],
                 usage_text);
      return 2;
    }
  }
  if (group.empty()) {
    fmt::print(stderr, "reaper-runtime overlay reset: which group?\n{}", usage_text);
    return 2;
  }
  if (auto st = reset_group(cfg, group, force); !st) {
    fmt::print(stderr, "reaper-runtime overlay reset: {}\n", st.error().what());
    return 1;
  }
  fmt::print("reset {}\n", group);
  std::fflush(stdout);
  return 0;
}

int cmd_gc(const NodeConfig& cfg) {
  int rc = 0;
  for (const auto& g : known_groups(cfg)) {
    auto p = paths_for(cfg, g);
    auto live = live_users(p);
    if (!live.ok() || !live->empty()) continue;
    auto st = reset_group(cfg, g, false);
    if (!st) {
      if (st.error().err() == EBUSY) continue;  // a container entered meanwhile
      fmt::print(stderr, "reaper-runtime overlay gc: {}\n", st.error().what());
      rc = 1;
      continue;
    }
    fmt::print("removed {}\n", g);
  }
  std::fflush(stdout);
  return rc;
}

}  // namespace

int admin_command(const NodeConfig& cfg, const std::vector<std::string>& args) {
  if (args.empty()) {
    fmt::print(stderr, "{}", usage_text);
    return 2;
  }
  const auto& verb = args[0];
  if (verb == "help" || verb == "--help" || verb == "-h") {
    fmt::print("{}", usage_text);
    return 0;
  }
  if (verb == "list" && args.size() == 1) return cmd_list(cfg);
  if (verb == "gc" && args.size() == 1) return cmd_gc(cfg);
  if (verb == "reset") return cmd_reset(cfg, args);
  fmt::print(stderr, "reaper-runtime overlay: unknown command or arguments `{}`\n{}", verb,
             usage_text);
  return 2;
}

}  // namespace reaper::overlay
