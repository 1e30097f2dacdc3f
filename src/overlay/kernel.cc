#include "overlay/kernel.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vector>

#include "common/fs.h"

namespace reaper::overlay::kernel {

namespace {

// The kernel's struct statx (256 bytes), declared here so that the build
// does not depend on which libc headers carry stx_mnt_id.
struct StatxTimestamp {
  int64_t tv_sec;
  uint32_t tv_nsec;
  int32_t reserved;
};
struct Statx {
  uint32_t mask;
  uint32_t blksize;
  uint64_t attributes;
  uint32_t nlink;
  uint32_t uid;
  uint32_t gid;
  uint16_t mode;
  uint16_t spare0;
  uint64_t ino;
  uint64_t size;
  uint64_t blocks;
  uint64_t attributes_mask;
  StatxTimestamp atime, btime, ctime, mtime;
  uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
  uint64_t mnt_id;
  uint32_t dio_mem_align, dio_offset_align;
  uint64_t spare3[12];
};
static_assert(sizeof(Statx) == 256);

constexpr unsigned statx_mnt_id = 0x1000;
constexpr unsigned statx_mnt_id_unique = 0x4000;
constexpr uint64_t statx_attr_mount_root = 0x2000;
constexpr int at_empty_path = 0x1000;

int raw_statx(int dirfd, const char* path, int flags, unsigned mask, Statx* out) {
  return static_cast<int>(::syscall(SYS_statx, dirfd, path, flags, mask, out));
}

bool mount_info_raw_at(int dirfd, const char* path, int flags, MountInfo& mi) {
  Statx stx{};
  if (raw_statx(dirfd, path, flags, statx_mnt_id | statx_mnt_id_unique, &stx) < 0) return false;
  mi = MountInfo{};
  mi.id = stx.mnt_id;
  if ((stx.attributes_mask & statx_attr_mount_root) != 0) {
    mi.root_known = true;
    mi.is_root = (stx.attributes & statx_attr_mount_root) != 0;
  }
  return true;
}

Result<MountInfo> mount_info_at(int dirfd, const char* path, int flags) {
  MountInfo mi;
  if (!mount_info_raw_at(dirfd, path, flags, mi)) return sys_error("statx");
  return mi;
}

Status check_type(int fd, const std::string& path, bool create, bool as_dir) {
  struct stat st {};
  if (::fstat(fd, &st) < 0) return sys_error("stat `{}`", path);
  if (create && as_dir && !S_ISDIR(st.st_mode))
    return errno_error(ENOTDIR, "`{}` exists and is not a directory", path);
  if (create && !as_dir && S_ISDIR(st.st_mode))
    return errno_error(EISDIR, "`{}` exists and is a directory", path);
  return {};
}

Error open_error(const std::string& path) {
  if (errno == ELOOP || errno == EXDEV)
    return sys_error("open `{}`: a symlink on the way leads through /proc", path);
  return sys_error("open `{}`", path);
}

Result<UniqueFd> walk(const std::string& path, bool create, bool as_dir) {
  if (path.empty() || path.front() != '/') return make_error("`{}` is not an absolute path", path);
  auto parts = fs::path_components(path);
  for (std::string_view name : parts)
    if (name == "." || name == "..") return make_error("`{}`: `.` and `..` are not allowed", path);
  // The usual case, a path that exists: one lookup, with the same rule as
  // each step below (no magic link anywhere on the way).
  UniqueFd whole(open_no_magiclinks(AT_FDCWD, path.c_str()));
  if (whole) {
    REAPER_TRY(check_type(whole.get(), path, create, as_dir));
    return whole;
  }
  if (errno == ENOENT && !create) return UniqueFd();
  // ENOTDIR: a trailing `/` after a file, which the steps below ignore.
  if (errno != ENOENT && errno != ENOTDIR) return open_error(path);
  // Step by step: what is missing is made.
  UniqueFd cur(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!cur) return sys_error("open `/`");
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string name(parts[i]);
    bool last = i + 1 == parts.size();
    int fd = open_no_magiclinks(cur.get(), name.c_str());
    if (fd < 0 && errno == ENOENT && create) {
      // Explicit modes: the caller's umask must not make a destination
      // unreachable for a workload that runs as another user.
      int rc = 0;
      if (!last || as_dir) {
        rc = ::mkdirat(cur.get(), name.c_str(), 0755);
        if (rc == 0) rc = ::fchmodat(cur.get(), name.c_str(), 0755, 0);
      } else {
        rc = ::openat(cur.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                      0644);
        if (rc >= 0) {
          int created = rc;
          rc = ::fchmod(created, 0644);
          ::close(created);
        }
      }
      if (rc < 0 && errno != EEXIST) return sys_error("create `{}`", path);
      fd = open_no_magiclinks(cur.get(), name.c_str());
    }
    if (fd < 0) {
      if (errno == ENOENT && !create) return UniqueFd();
      return open_error(path);
    }
    cur.reset(fd);
    if (last) REAPER_TRY(check_type(cur.get(), path, create, as_dir));
  }
  return cur;
}

}  // namespace

int openat2(int dirfd, const char* path, OpenHow* how) {
  return static_cast<int>(::syscall(SYS_openat2, dirfd, path, how, sizeof(OpenHow)));
}

int open_no_magiclinks(int dirfd, const char* path) {
  OpenHow how;
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = resolve_no_magiclinks;
  int fd = openat2(dirfd, path, &how);
  if (fd < 0 && errno == ENOSYS) fd = ::openat(dirfd, path, O_PATH | O_CLOEXEC);
  return fd;
}

int mount_setattr(int dirfd, const char* path, unsigned flags, MountAttr* attr) {
  return static_cast<int>(
      ::syscall(SYS_mount_setattr, dirfd, path, flags, attr, sizeof(MountAttr)));
}

std::string fd_path(int fd) {
  return fmt::format("/proc/self/fd/{}", fd);
}

Result<MountInfo> mount_info(int fd) {
  return mount_info_at(fd, "", at_empty_path);
}

bool mount_info_raw(int fd, MountInfo& out) {
  return mount_info_raw_at(fd, "", at_empty_path, out);
}

Result<bool> is_mount_point(const std::string& path) {
  auto mi = REAPER_TRY_CTX(mount_info_at(AT_FDCWD, path.c_str(), 0), "`{}`", path);
  if (mi.root_known) return mi.is_root;
  if (path == "/") return true;
  auto parent = REAPER_TRY_CTX(mount_info_at(AT_FDCWD, (path + "/..").c_str(), 0), "`{}/..`", path);
  return parent.id != mi.id;
}

Result<long> fs_type(int fd) {
  struct statfs sfs {};
  if (::fstatfs(fd, &sfs) < 0) return sys_error("statfs");
  return static_cast<long>(sfs.f_type);
}

Result<long> fs_type(const std::string& path) {
  struct statfs sfs {};
  if (::statfs(path.c_str(), &sfs) < 0) return sys_error("statfs `{}`", path);
  return static_cast<long>(sfs.f_type);
}

Result<UniqueFd> open_or_create(const std::string& path, bool as_dir) {
  return walk(path, true, as_dir);
}

Result<UniqueFd> open_existing(const std::string& path) {
  return walk(path, false, false);
}

namespace {

Status remove_children(int dirfd, dev_t dev, const std::string& where) {
  int dup = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return sys_error("dup `{}`", where);
  DIR* d = ::fdopendir(dup);
  if (d == nullptr) {
    ::close(dup);
    return sys_error("read directory `{}`", where);
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string_view n(e->d_name);
    if (n != "." && n != "..") names.emplace_back(n);
  }
  ::closedir(d);
  for (const auto& n : names) {
    std::string path = where;
    path += '/';
    path += n;
    struct stat st {};
    if (::fstatat(dirfd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
      if (errno == ENOENT) continue;
      return sys_error("stat `{}`", path);
    }
    if (S_ISDIR(st.st_mode)) {
      if (st.st_dev != dev) return errno_error(EBUSY, "`{}` is a mount point", path);
      UniqueFd sub(::openat(dirfd, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub) return sys_error("open `{}`", path);
      REAPER_TRY(remove_children(sub.get(), dev, path));
      if (::unlinkat(dirfd, n.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT)
        return sys_error("remove `{}`", path);
    } else if (::unlinkat(dirfd, n.c_str(), 0) < 0 && errno != ENOENT) {
      return sys_error("remove `{}`", path);
    }
  }
  return {};
}

uint64_t usage_of(int dirfd, dev_t dev, int depth) {
  if (depth > 256) return 0;
  int dup = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return 0;
  DIR* d = ::fdopendir(dup);
  if (d == nullptr) {
    ::close(dup);
    return 0;
  }
  uint64_t total = 0;
  while (dirent* e = ::readdir(d)) {
    std::string_view n(e->d_name);
    if (n == "." || n == "..") continue;
    struct stat st {};
    if (::fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != dev) continue;
    total += static_cast<uint64_t>(st.st_blocks) * 512;
    if (S_ISDIR(st.st_mode)) {
      UniqueFd sub(::openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (sub) total += usage_of(sub.get(), dev, depth + 1);
    }
  }
  ::closedir(d);
  return total;
}

}  // namespace

Status remove_tree(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return {};
    return sys_error("open `{}`", path);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) < 0) return sys_error("stat `{}`", path);
  REAPER_TRY(remove_children(fd.get(), st.st_dev, path));
  fd.reset();
  if (::rmdir(path.c_str()) < 0 && errno != ENOENT) return sys_error("remove `{}`", path);
  return {};
}

uint64_t tree_usage(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return 0;
  struct stat st {};
  if (::fstat(fd.get(), &st) < 0) return 0;
  return static_cast<uint64_t>(st.st_blocks) * 512 + usage_of(fd.get(), st.st_dev, 0);
}

Status replace_file_at(int dirfd, const std::string& name, std::string_view data, mode_t mode,
                       uid_t uid, gid_t gid) {
  std::string tmp = fmt::format(".{}.reaper-{}", name, ::getpid());
  UniqueFd fd(
      ::openat(dirfd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd && errno == EEXIST) {
    ::unlinkat(dirfd, tmp.c_str(), 0);
    fd.reset(
        ::openat(dirfd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  }
  if (!fd) return sys_error("create `{}`", tmp);
  auto fail = [&](Error e) {
    ::unlinkat(dirfd, tmp.c_str(), 0);
    return e;
  };
  if (auto st = fs::write_all(fd.get(), data); !st) return fail(std::move(st).error().wrap(tmp));
  if (::fchown(fd.get(), uid, gid) < 0) return fail(sys_error("chown `{}`", tmp));
  if (::fchmod(fd.get(), mode) < 0) return fail(sys_error("chmod `{}`", tmp));
  fd.reset();
  if (::renameat(dirfd, tmp.c_str(), dirfd, name.c_str()) < 0)
    return fail(sys_error("rename `{}` to `{}`", tmp, name));
  return {};
}

std::pair<std::string, std::string> split_path(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return {".", path};
  return {slash == 0 ? std::string("/") : path.substr(0, slash), path.substr(slash + 1)};
}

bool path_within(std::string_view path, std::string_view prefix) {
  if (prefix == "/") return true;
  if (path.size() < prefix.size() || path.substr(0, prefix.size()) != prefix) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

}  // namespace reaper::overlay::kernel
