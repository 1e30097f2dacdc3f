#pragma once
// linux.cgroupsPath in the two formats kubelet's cgroup drivers produce.
//
//   cgroupfs  "/kubepods/burstable/pod<uid>/<id>"  an absolute cgroup path,
//             the same in every hierarchy; a relative one ("a/b") is taken
//             relative to the monitor's own cgroup in each hierarchy, as runc does
//   systemd   "kubepods-burstable-pod<uid>.slice:cri-containerd:<id>"
//             slice:prefix:name -> /kubepods.slice/kubepods-burstable.slice/
//             kubepods-burstable-pod<uid>.slice/cri-containerd-<id>.scope
//
// The format is told by its shape (a systemd path has exactly two `:` and no
// leading `/`), so no --systemd-cgroup flag is needed. reaper writes the
// directories itself: with the systemd driver it does not register a
// transient scope unit over D-Bus (see docs/resources.md).

#include <string>
#include <string_view>

#include "common/error.h"

namespace reaper::cgroup {

enum class Driver { cgroupfs, systemd };

struct CgroupPath {
  Driver driver = Driver::cgroupfs;
  // Normalized: "/a/b/c" when absolute, "a/b/c" when relative; never the root.
  std::string path;
  [[nodiscard]] bool relative() const { return !path.empty() && path.front() != '/'; }
};

// Parses linux.cgroupsPath. Errors name the problem: `..` components, an
// empty or root path, a malformed slice or unit name.
Result<CgroupPath> parse_cgroups_path(std::string_view text);

// systemd's slice nesting: "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice";
// "-.slice" (the root slice) -> "".
Result<std::string> expand_slice(std::string_view slice);

// `own` (an absolute cgroup path) joined with `p`'s path when p is relative;
// p's path otherwise.
std::string resolve(const CgroupPath& p, std::string_view own);

}  // namespace reaper::cgroup
