#pragma once
// Kernel interfaces the overlay code needs beyond common/syscalls.h: openat2,
// mount_setattr and statx's mount id (raw, so that glibc and musl builds
// behave the same), plus small helpers built on them. Constants carry our own
// names so they never collide with libc macros.

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "common/error.h"
#include "common/fd.h"

#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif

namespace reaper::overlay::kernel {

inline constexpr unsigned at_recursive = 0x8000;           // AT_RECURSIVE
inline constexpr unsigned move_mount_t_empty_path = 0x40;  // MOVE_MOUNT_T_EMPTY_PATH
inline constexpr uint64_t mount_attr_rdonly = 0x1;         // MOUNT_ATTR_RDONLY
inline constexpr uint64_t mount_attr_nosuid = 0x2;
inline constexpr uint64_t mount_attr_nodev = 0x4;
inline constexpr uint64_t mount_attr_noexec = 0x8;
inline constexpr uint64_t resolve_no_magiclinks = 0x02;  // RESOLVE_NO_MAGICLINKS

inline constexpr long overlayfs_magic = 0x794c7630;  // OVERLAYFS_SUPER_MAGIC
inline constexpr long nsfs_magic = 0x6e736673;       // NSFS_MAGIC
inline constexpr long proc_magic = 0x9fa0;           // PROC_SUPER_MAGIC
inline constexpr long sysfs_magic = 0x62656572;      // SYSFS_MAGIC

// The source name of every tmpfs reaper mounts to hide something, so that a
// masking mount can be told apart in /proc/self/mountinfo.
inline constexpr const char* mask_source = "reaper-mask";

struct MountAttr {
  uint64_t attr_set = 0;
  uint64_t attr_clr = 0;
  uint64_t propagation = 0;
  uint64_t userns_fd = 0;
};

struct OpenHow {
  uint64_t flags = 0;
  uint64_t mode = 0;
  uint64_t resolve = 0;
};

int openat2(int dirfd, const char* path, OpenHow* how);
// An O_PATH fd of `path` below `dirfd`, following ordinary symlinks
// (against the process root, which is the view once joined) but never a
// /proc magic link; -1 and errno on failure. Kernels before 5.6 lack
// openat2: plain openat then. Allocates nothing (usable after a fork).
int open_no_magiclinks(int dirfd, const char* path);
int mount_setattr(int dirfd, const char* path, unsigned flags, MountAttr* attr);

// "/proc/self/fd/<fd>", to hand an fd to calls that only take paths (mount(2)).
std::string fd_path(int fd);

// The mount a file descriptor is on: statx's unique 64-bit id where the
// kernel has it (6.8), the reusable 32-bit one otherwise, and whether the fd
// is the root of that mount (unknown before 5.8: then `root_known` is false).
struct MountInfo {
  uint64_t id = 0;
  bool is_root = false;
  bool root_known = false;
};
Result<MountInfo> mount_info(int fd);
// The same without allocating (usable in a child forked from a threaded process).
bool mount_info_raw(int fd, MountInfo& out);

// True when `path` is the root of a mount (a mount point).
Result<bool> is_mount_point(const std::string& path);

// filesystem type (statfs f_type) of an fd / a path.
Result<long> fs_type(int fd);
Result<long> fs_type(const std::string& path);

// Opens `path` (absolute, normalized) below the current root for mounting on
// it, following ordinary symlinks but refusing /proc magic links, creating
// missing components as directories, and the last one as a directory or an
// empty file. Returns an O_PATH fd.
Result<UniqueFd> open_or_create(const std::string& path, bool as_dir);

// Opens `path` like open_or_create without creating anything; returns an
// invalid fd when it does not exist.
Result<UniqueFd> open_existing(const std::string& path);

// Removes a directory tree without following symlinks or crossing into
// other filesystems (a mount point below `path` is an error).
Status remove_tree(const std::string& path);

// Bytes used by a tree (st_blocks), same filesystem only, best effort.
uint64_t tree_usage(const std::string& path);

// Writes `data` to `dir/name` atomically (temp file + rename, so a symlink at
// `name` is replaced, never followed) with an exact mode and owner.
Status replace_file_at(int dirfd, const std::string& name, std::string_view data, mode_t mode,
                       uid_t uid, gid_t gid);

// Splits an absolute normalized path into parent and last component.
std::pair<std::string, std::string> split_path(const std::string& path);

// True when `path` is `prefix` or below it (both absolute, normalized).
bool path_within(std::string_view path, std::string_view prefix);

}  // namespace reaper::overlay::kernel
