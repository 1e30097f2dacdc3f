#pragma once
// containerd's rootfs mounts (CreateTaskRequest.rootfs: the container's
// snapshot, usually one overlay mount) mounted onto the spec's root in the
// host's mount namespace, as runc's shim does, before the monitor starts:
// the monitor then shows that directory read-only in the view as the
// container's image (overlay/image.h). They stay mounted until the
// container is deleted; the container's state dir records where they are
// (file `rootfs`), so that every delete path (the Delete RPC, the shim's
// `delete` action after a crash, `reaper-runtime delete`) unmounts them,
// and only what reaper mounted. A pod sandbox gets none: it is simulated.

#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "oci/spec.h"

namespace reaper::runtime {

// One containerd mount (api/types/mount.proto).
struct RootfsMount {
  std::string type;
  std::string source;
  std::string target;  // containerd 2.x: a path below the rootfs; empty = the rootfs
  std::vector<std::string> options;
};

// What mount(2) is called with for one RootfsMount.
struct MountCall {
  std::string source;
  std::string target;             // absolute
  std::string fstype;             // empty for a bind mount
  unsigned long flags = 0;        // MS_* of the first mount(2) call
  std::string data;               // the options that are not flags, comma-joined
  unsigned long remount = 0;      // a bind's flags (MS_RDONLY ...), set by a remount; 0 = none
  unsigned long propagation = 0;  // MS_PRIVATE, MS_SLAVE ... (| MS_REC), applied after; 0 = none
};

// Translates a mount: flag options (ro, nosuid, noatime, ...) become
// MS_* flags, propagation options a second call, the rest (lowerdir=...,
// userxattr, ...) the data string, in order. Type `bind` or a bind/rbind
// option makes a bind mount. Errors (EINVAL) on an empty type or source,
// options it cannot honour (`loop`, `remount`) and a target with `..`.
Result<MountCall> plan_mount(const RootfsMount& m, const std::string& rootfs);

// Mounts that were made and must go again unless released: the rootfs
// mounts of a create that fails later.
class MountedRootfs {
 public:
  MountedRootfs() = default;
  explicit MountedRootfs(std::vector<std::string> targets) : targets_(std::move(targets)) {}
  MountedRootfs(MountedRootfs&& o) noexcept : targets_(std::exchange(o.targets_, {})) {}
  MountedRootfs& operator=(MountedRootfs&& o) noexcept;
  MountedRootfs(const MountedRootfs&) = delete;
  MountedRootfs& operator=(const MountedRootfs&) = delete;
  ~MountedRootfs();
  // Keeps them mounted (the container exists now).
  void release() { targets_.clear(); }

 private:
  void unmount();
  std::vector<std::string> targets_;  // in mount order
};

// For a new container: records the targets in the container's state dir
// (one per line), then mounts `mounts` in order onto the spec's root (root.path against the
// bundle, `<bundle>/rootfs` without one; made if missing). Nothing to do
// without mounts. On error nothing stays mounted.
Result<MountedRootfs> mount_rootfs(int container_dirfd, const oci::Spec& spec,
                                   const std::string& bundle,
                                   const std::vector<RootfsMount>& mounts);

// Unmounts everything on `target` (lazily, stacked mounts and submounts
// included); nothing to do when it is not a mount point or does not exist.
Status unmount_all(const std::string& target);

// Unmounts the rootfs recorded in the container's state dir, if any.
// Idempotent.
Status release_rootfs(int container_dirfd);

}  // namespace reaper::runtime
