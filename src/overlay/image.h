#pragma once
// The container's image, for host processes: reaper does not run workloads
// in their image, but the image kubelet pulled anyway can carry tools. Its
// root filesystem (the spec's root.path, where the shim mounted
// containerd's rootfs mounts) is shown read-only, nosuid and nodev, in the
// group's view at <state root>/image/<id> (/run/reaper/image/<id> by
// default), and that path is given to the container's processes as
// REAPER_IMAGE_ROOT. The host's root stays the view's `/`.
//
// "No image" (no mount, no variable) when root.path is empty, names nothing,
// or names an empty directory (`ctr run --rootfs /empty`, the rootfs
// directory containerd makes when there is no snapshot, hand-made bundles);
// anything else that is not a directory, or cannot be read, is an error.
// The mount is made by overlay::enter() with the container's volumes (same
// clone, same records, same release), only for the init process; exec
// processes get the variable and see the init process's mount.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "oci/spec.h"

namespace reaper::overlay {

inline constexpr std::string_view image_root_env = "REAPER_IMAGE_ROOT";
// The directory of the state root that holds the image mount points (a
// container cannot take this name).
inline constexpr std::string_view image_dir_name = "image";

struct Image {
  std::string source;  // the rootfs on the host (absolute, symlinks resolved)
  std::string dest;    // where the view shows it: <state root>/image/<id>
};

// <state root>/image/<id>
std::string image_path(std::string_view state_root, std::string_view id);

// root.path resolved against the bundle, without touching the filesystem:
// `rootfs` -> `<bundle>/rootfs`, an absolute path as it is (normalized);
// empty when root.path is. A `..` component is refused.
Result<std::string> rootfs_path(const oci::Spec& spec, std::string_view bundle);

// The container's image, or nullopt when it has none (see above).
Result<std::optional<Image>> find_image(const oci::Spec& spec, std::string_view bundle,
                                        std::string_view state_root, std::string_view id);

// Sets `REAPER_IMAGE_ROOT=<dir>` in a process environment ("KEY=VALUE"
// entries), replacing any entry of that name: the spec cannot point it
// elsewhere.
void set_image_env(std::vector<std::string>& env, std::string_view dir);

// Makes <state root>/image (0711) and lets non-root workloads reach it:
// the state root gets the search bits (g+x, o+x; 0700 -> 0711). Listing the
// root and everything in it other than the images stay root-only.
Status prepare_image_base(const std::string& state_root);

// Removes the mount point <state root>/image/<id>. Called in the host's
// namespace, where it is not mounted, it also detaches what a view still
// had mounted there (the kernel drops the mounts of a removed directory in
// every other namespace). Idempotent.
Status remove_image_dir(const std::string& state_root, std::string_view id);
// The same below the state root's directory fd (a monitor, inside the view).
Status remove_image_dir_at(int state_root_fd, std::string_view id);

}  // namespace reaper::overlay
