#pragma once
// Which cgroup hierarchies the node has, read from /proc/self/mountinfo and
// /proc/self/cgroup (never from hard-coded paths).
//
//   v2 (unified)  one cgroup2 mount holds every controller
//   v1 (legacy, or hybrid with an extra cgroup2 mount such as
//      /sys/fs/cgroup/unified)  one mount per controller or group of
//      co-mounted controllers; reaper uses the ones it manages
//
// A node whose v1 hierarchies hold the controllers is treated as v1 even if a
// cgroup2 mount exists too (the hybrid layout): the controllers are where the
// limits are. The seam for tests is parse_layout(): a fake mountinfo naming
// directories of a temporary tree.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace reaper::cgroup {

enum class Version { v1, v2 };
std::string_view to_string(Version v);

// The v1 controllers reaper creates a cgroup in (others, like devices, it
// leaves alone: see docs/resources.md).
inline constexpr std::string_view managed_v1_controllers[] = {"cpu",    "cpuacct", "cpuset",
                                                              "memory", "pids",    "freezer"};

struct Hierarchy {
  std::vector<std::string> controllers;  // v1: e.g. {"cpu", "cpuacct"}; v2: empty
  std::string mount;                     // where it is mounted
  std::string mount_root;                // the cgroup mounted there (mountinfo field 4)
  std::string own;                       // the calling process's cgroup in it

  [[nodiscard]] bool has(std::string_view controller) const;
  // The directory of cgroup `path` (absolute) under this mount; an error
  // when the path lies outside the mounted subtree.
  [[nodiscard]] Result<std::string> dir_of(std::string_view path) const;
};

struct Layout {
  Version version = Version::v2;
  std::vector<Hierarchy> hierarchies;  // v2: exactly one
  // Test seam for a fake cgroupfs (plain directories in a temporary tree):
  // what the kernel does by itself after a mkdir (create the control files)
  // and before a rmdir (drop them). Unset for real hierarchies.
  std::function<void(const std::string&dir)> after_mkdir, before_rmdir;
};

// From the text of /proc/self/mountinfo and /proc/self/cgroup.
Result<Layout> parse_layout(std::string_view mountinfo, std::string_view self_cgroup);
// The calling process's view.
Result<Layout> detect_layout();

}  // namespace reaper::cgroup
