#pragma once
// Pieces of the overlay code shared between its files (and its tests).

#include <sys/mount.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/error.h"
#include "common/fd.h"
#include "oci/spec.h"
#include "overlay/image.h"
#include "overlay/overlay.h"

namespace reaper::overlay {

// Where a group lives on the host. In <ns dir>, names of our own start with
// `.`, which neither a group nor a Kubernetes name can.
struct GroupPaths {
  std::string group;
  std::string dir;          // <base>/<group>
  std::string upper;        // <base>/<group>/upper
  std::string work;         // <base>/<group>/work
  std::string merged;       // <base>/<group>/merged: the view is built here
  std::string mask;         // <base>/<group>/mask: staging for masking placeholders
  std::string ns_file;      // <ns dir>/<group>: bind mount of the namespace
  std::string lock_file;    // <ns dir>/.locks/<group>
  std::string users_dir;    // <ns dir>/.users
  std::string anchor_file;  // <ns dir>/.anchors/<group>: "pid inode" (fallback)
};
GroupPaths paths_for(const NodeConfig& cfg, const std::string& group);

// Test seams: force the fallbacks this kernel does not need.
struct EnterOptions {
  bool force_anchor = false;        // as if binding the namespace file failed with EINVAL
  bool force_no_open_tree = false;  // as if open_tree(2) did not exist
};
Status enter_with(const NodeConfig& cfg, const std::string& group, const oci::Spec& spec,
                  std::string_view container_id, const EnterOptions& opts,
                  const std::optional<Image>& image = std::nullopt);

// --- locking and bookkeeping (users.cc) -------------------------------------

// flock(2) on a file; released when the object goes away.
class FileLock {
 public:
  static Result<FileLock> acquire(const std::string& path);
  [[nodiscard]] int fd() const { return fd_.get(); }

 private:
  explicit FileLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

struct UserMount {
  std::string dest;
  uint64_t mount_id = 0;
};

// One process that entered the group: its container, identity (pid and
// start time, so a reused pid is not mistaken for it), the namespace it
// entered and the bind mounts it made there.
struct UserEntry {
  std::string container_id;
  pid_t pid = 0;
  uint64_t start_time = 0;
  uint64_t ns_inode = 0;
  std::vector<UserMount> mounts;
  [[nodiscard]] bool alive() const;
};

Result<std::vector<UserEntry>> read_users(int users_dirfd, const std::string& group);
Status write_users(int users_dirfd, const std::string& group, const std::vector<UserEntry>& users);
std::string format_users(const std::vector<UserEntry>& users);
Result<std::vector<UserEntry>> parse_users(std::string_view text, std::string_view origin);

// The calling process's identity for a UserEntry.
Result<UserEntry> self_entry(std::string_view container_id);

// --- masking (mask.cc) --------------------------------------------------------

struct SanitizedFile {
  std::string path;     // /etc/shadow
  std::string content;  // password fields replaced by `!`
  mode_t mode = 0640;
  uid_t uid = 0;
  gid_t gid = 0;
};

struct MaskPlan {
  std::vector<std::string> paths;        // hidden behind read-only placeholders
  std::vector<SanitizedFile> sanitized;  // replaced by a sanitized copy in the view
};

// The built-in list (original Reaper's plus kubelet / control-plane credentials).
const std::vector<std::string>& default_masked_paths();
// Password databases that get a sanitized copy rather than a placeholder.
bool is_password_database(std::string_view path);
// `name:hash:...` -> `name:!:...`; drops lines without a `:`.
std::string sanitize_password_database(std::string_view content);
// Computes the effective list and reads the host's password databases.
// Reads host files: call it in the host mount namespace.
Result<MaskPlan> plan_masks(const NodeConfig& cfg);
// Applies a plan in the current root (the view, chrooted). `empty_file_fd` is
// an O_PATH fd of an empty read-only file on a mount of this namespace.
Status apply_masks(const MaskPlan& plan, int empty_file_fd);
// Hides a directory behind an empty read-only tmpfs (no-op if missing).
Status mask_directory(const std::string& path);

// --- the namespace (namespace.cc) ----------------------------------------------

// Makes the directories the group needs on the host: <ns dir> a private
// mount (see namespace.cc), the overlay base a filesystem other than the
// root one. Takes the node-wide setup lock.
Status prepare_host(const NodeConfig& cfg);

// The group's persisted namespace if there is a valid one, else an invalid fd.
Result<UniqueFd> open_namespace(const GroupPaths& p);
// Creates the group's namespace and persists it; returns an fd of it.
Result<UniqueFd> create_namespace(const NodeConfig& cfg, const GroupPaths& p,
                                  const EnterOptions& opts);
// setns + chroot to the namespace's root, checked to be an overlayfs.
Status join_namespace(int nsfd);
// Removes the persisted handle (bind mount or anchor process).
Status drop_namespace(const GroupPaths& p);
// Inode of a namespace fd (its identity).
Result<uint64_t> namespace_inode(int nsfd);

// Drops a group (admin.cc): namespace handle, directory, records. Refused
// with EBUSY while a live process uses it, unless `force`.
Status reset_group(const NodeConfig& cfg, const std::string& group, bool force);

// --- volumes and DNS (volumes.cc) ---------------------------------------------

struct PreparedVolume {
  std::string what = "volume";  // for messages: "volume" or "image"
  std::string source;
  std::string dest;
  bool is_dir = true;
  bool recursive = false;
  uint64_t attrs = 0;  // MOUNT_ATTR_* to set (read-only, nosuid, ...)
  // MS_PRIVATE (the default, Kubernetes' `None`), MS_SLAVE (`rslave`:
  // HostToContainer) or 0 (`rshared`: Bidirectional, the clone stays a
  // peer of its source). See propagation() in volumes.cc.
  uint64_t propagation = MS_PRIVATE;
  bool attrs_applied = false;  // attrs and propagation set on the detached tree already
  UniqueFd tree;               // open_tree clone made in the host namespace
};

// True for OCI mounts that are binds and are not handled by the view itself.
bool is_volume(const oci::Mount& m);
// Validates the container's volumes and clones their sources; call in the
// host mount namespace.
Result<std::vector<PreparedVolume>> prepare_volumes(const oci::Spec& spec,
                                                    const EnterOptions& opts);
// Clones the container's image like a volume (read-only, nosuid, nodev,
// recursive); call in the host mount namespace.
Result<PreparedVolume> prepare_image(const Image& image, const EnterOptions& opts);
// Attaches them in the view. A mount already at a destination is unmounted
// first when its id is in `stale` (left by a process that is gone), else the
// new mount goes on top. Records what was mounted in `done` as it goes.
Status attach_volumes(std::vector<PreparedVolume>& volumes, const std::vector<uint64_t>& stale,
                      std::vector<UserMount>& done);
// Unmounts `m` if it is still mounted at its destination (by id).
Status unmount_if_current(const UserMount& m);

struct DnsPlan {
  DnsMode mode = DnsMode::host;
  std::optional<std::string> content;  // what /etc/resolv.conf must hold
  std::string origin;                  // where it came from, for messages
};
// Reads the resolv.conf to use; call in the host mount namespace.
Result<DnsPlan> prepare_dns(const NodeConfig& cfg, const oci::Spec& spec);
// Makes the view's /etc/resolv.conf hold the planned content.
Status apply_dns(const DnsPlan& plan);

}  // namespace reaper::overlay
