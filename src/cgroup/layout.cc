#include "cgroup/layout.h"

#include <algorithm>
#include <optional>

#include "cgroup/files.h"
#include "common/fs.h"

namespace reaper::cgroup {

namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view s) {
  auto octal = [&](size_t j) { return j < s.size() && s[j] >= '0' && s[j] <= '7'; };
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && octal(i + 1) && octal(i + 2) && octal(i + 3)) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

struct Mount {
  std::string root, point, fstype;
  std::vector<std::string> controllers;  // cgroup v1 controllers from the super options
};

bool managed(std::string_view c) {
  return std::find(std::begin(managed_v1_controllers), std::end(managed_v1_controllers), c) !=
         std::end(managed_v1_controllers);
}

// "36 25 0:31 / /sys/fs/cgroup/memory rw,relatime shared:15 - cgroup cgroup rw,memory"
// Only cgroup and cgroup2 mounts are parsed: the type, after " - " (paths
// escape their spaces), is looked at first, so that the node's other mounts
// cost no allocation.
std::optional<Mount> parse_mount_line(std::string_view line) {
  auto sep = line.find(" - ");
  if (sep == std::string_view::npos) return std::nullopt;
  std::string_view type = line.substr(sep + 3);
  type = type.substr(0, type.find(' '));
  if (type != "cgroup" && type != "cgroup2") return std::nullopt;
  auto fields = split(line, ' ');
  auto dash = std::find(fields.begin(), fields.end(), "-");
  if (fields.size() < 7 || dash == fields.end() || fields.end() - dash < 4) return std::nullopt;
  Mount m;
  m.root = unescape(fields[3]);
  m.point = unescape(fields[4]);
  m.fstype = std::string(dash[1]);
  if (m.fstype == "cgroup") {
    for (std::string_view opt : split(dash[3], ','))
      if (managed(opt)) m.controllers.emplace_back(opt);
  }
  return m;
}

// "4:memory:/a/b" or "0::/a/b": controllers (comma-separated) -> path.
struct SelfEntry {
  std::vector<std::string_view> controllers;
  std::string_view path;
};

std::vector<SelfEntry> parse_self(std::string_view text) {
  std::vector<SelfEntry> out;
  for (std::string_view line : split(text, '\n')) {
    auto first = line.find(':');
    if (first == std::string_view::npos) continue;
    auto second = line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    std::string_view ctl = line.substr(first + 1, second - first - 1);
    SelfEntry e;
    if (!ctl.empty()) e.controllers = split(ctl, ',');
    e.path = line.substr(second + 1);
    out.push_back(e);
  }
  return out;
}

// The own cgroup of a v1 hierarchy: the /proc/self/cgroup line that lists
// one of its controllers.
std::string own_v1(const std::vector<SelfEntry>& self, const std::vector<std::string>& ctl) {
  for (const auto& e : self) {
    for (std::string_view c : e.controllers)
      if (std::find(ctl.begin(), ctl.end(), c) != ctl.end()) return std::string(e.path);
  }
  return "/";
}

std::string own_v2(const std::vector<SelfEntry>& self) {
  for (const auto& e : self)
    if (e.controllers.empty()) return std::string(e.path);
  return "/";
}

Layout v1_layout(const std::vector<Mount>& mounts, const std::vector<SelfEntry>& self) {
  Layout l;
  l.version = Version::v1;
  for (const auto& m : mounts) {
    if (m.fstype != "cgroup" || m.controllers.empty()) continue;
    // The same hierarchy mounted twice (a bind mount): the first one wins.
    bool seen = std::any_of(l.hierarchies.begin(), l.hierarchies.end(),
                            [&](const Hierarchy& h) { return h.controllers == m.controllers; });
    if (seen) continue;
    l.hierarchies.push_back({m.controllers, m.point, m.root, own_v1(self, m.controllers)});
  }
  return l;
}

}  // namespace

std::string_view to_string(Version v) {
  return v == Version::v1 ? "v1" : "v2";
}

bool Hierarchy::has(std::string_view controller) const {
  return std::find(controllers.begin(), controllers.end(), controller) != controllers.end();
}

Result<std::string> Hierarchy::dir_of(std::string_view path) const {
  std::string_view rel = path;
  if (mount_root != "/") {
    if (!rel.starts_with(mount_root) ||
        (rel.size() > mount_root.size() && rel[mount_root.size()] != '/'))
      return make_error("cgroup `{}` is outside the subtree `{}` mounted on `{}`", path, mount_root,
                        mount);
    rel.remove_prefix(mount_root.size());
  }
  while (rel.starts_with('/')) rel.remove_prefix(1);
  if (rel.empty()) return mount;
  return fmt::format("{}/{}", mount, rel);
}

Result<Layout> parse_layout(std::string_view mountinfo, std::string_view self_cgroup) {
  std::vector<Mount> mounts;
  for (std::string_view line : split(mountinfo, '\n')) {
    if (auto m = parse_mount_line(line)) mounts.push_back(std::move(*m));
  }
  auto self = parse_self(self_cgroup);
  Layout v1 = v1_layout(mounts, self);
  if (!v1.hierarchies.empty()) return v1;
  for (const auto& m : mounts) {
    if (m.fstype != "cgroup2") continue;
    Layout l;
    l.version = Version::v2;
    l.hierarchies.push_back({{}, m.point, m.root, own_v2(self)});
    return l;
  }
  return make_error(
      "no cgroup hierarchy is mounted (/proc/self/mountinfo has no cgroup2 mount "
      "and no cgroup v1 mount of cpu, cpuacct, cpuset, memory, pids or freezer)");
}

Result<Layout> detect_layout() {
  std::string mountinfo = REAPER_TRY(fs::read_kernel_file("/proc/self/mountinfo"));
  std::string self = REAPER_TRY(fs::read_kernel_file("/proc/self/cgroup"));
  return parse_layout(mountinfo, self);
}

}  // namespace reaper::cgroup
