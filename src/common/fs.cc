#include "common/fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>

namespace reaper::fs {

namespace {

Result<std::string> read_fd(int fd, const std::string& path, size_t max_size) {
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read `{}`", path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_size) return make_error("read `{}`: larger than {} bytes", path, max_size);
  }
  return out;
}

}  // namespace

Result<std::string> read_file(const std::string& path, size_t max_size) {
  return read_file_at(AT_FDCWD, path, max_size);
}

std::string path_at(int dirfd, const std::string& name) {
  if (dirfd == AT_FDCWD || name.starts_with('/')) return name;
  char dir[PATH_MAX];
  ssize_t n = ::readlink(fmt::format("/proc/self/fd/{}", dirfd).c_str(), dir, sizeof dir);
  if (n <= 0 || static_cast<size_t>(n) >= sizeof dir) return name;
  return fmt::format("{}/{}", std::string_view(dir, static_cast<size_t>(n)), name);
}

// The file is looked at before it is opened for reading: a FIFO in its place
// would block the reader until someone writes (the shim's whole event loop),
// and opening a device node can have effects of its own. So: an O_PATH
// handle (which opens nothing), a check that it is a regular file, then the
// same inode reopened through /proc/self/fd, which no rename can swap.
Result<std::string> read_file_at(int dirfd, const std::string& name, size_t max_size) {
  UniqueFd handle(::openat(dirfd, name.c_str(), O_PATH | O_CLOEXEC | O_NOFOLLOW));
  if (!handle) return sys_error("open `{}`", path_at(dirfd, name));
  struct stat st {};
  if (::fstat(handle.get(), &st) < 0) return sys_error("stat `{}`", path_at(dirfd, name));
  if (S_ISLNK(st.st_mode))  // O_PATH | O_NOFOLLOW gives the link itself
    return make_error("`{}` is a symbolic link: not following it", path_at(dirfd, name));
  if (!S_ISREG(st.st_mode)) return make_error("`{}` is not a regular file", path_at(dirfd, name));
  UniqueFd fd(::open(fmt::format("/proc/self/fd/{}", handle.get()).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return sys_error("open `{}`", path_at(dirfd, name));
  return read_fd(fd.get(), name, max_size);
}

Result<std::string> read_kernel_file(const std::string& path, size_t max_size) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return sys_error("open `{}`", path);
  return read_fd(fd.get(), path, max_size);
}

Status write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("write");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Status append_to_log(const std::string& path, std::string_view line) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) return sys_error("log file `{}`", path);
  REAPER_TRY_CTX(write_all(fd.get(), line), "log file `{}`", path);
  return {};
}

Status write_file_atomic_at(int dirfd, const std::string& name, std::string_view data,
                            mode_t mode) {
  std::string tmp = fmt::format(".{}.tmp{}", name, ::getpid());
  UniqueFd fd(
      ::openat(dirfd, tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode));
  if (!fd) return sys_error("create `{}`", tmp);
  if (auto st = write_all(fd.get(), data); !st) {
    ::unlinkat(dirfd, tmp.c_str(), 0);
    return std::move(st).error().wrap(fmt::format("`{}`", tmp));
  }
  fd.reset();
  if (::renameat(dirfd, tmp.c_str(), dirfd, name.c_str()) < 0) {
    auto err = sys_error("rename `{}` to `{}`", tmp, name);
    ::unlinkat(dirfd, tmp.c_str(), 0);
    return err;
  }
  return {};
}

Status mkdir_p(const std::string& path, mode_t mode) {
  if (path.empty()) return make_error("mkdir: empty path");
  // The usual case is a directory that exists already: one mkdir says so.
  // Only when a parent is missing are the parents made, top down.
  if (::mkdir(path.c_str(), mode) < 0 && errno != EEXIST) {
    if (errno != ENOENT) return sys_error("mkdir `{}`", path);
    size_t pos = 0;
    while (pos != std::string::npos) {
      pos = path.find('/', pos + 1);
      std::string part = path.substr(0, pos);
      if (::mkdir(part.c_str(), mode) < 0 && errno != EEXIST) return sys_error("mkdir `{}`", part);
    }
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) < 0) return sys_error("stat `{}`", path);
  if (!S_ISDIR(st.st_mode)) return make_error("mkdir `{}`: exists and is not a directory", path);
  return {};
}

std::vector<std::string_view> split_nonempty(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t next = text.find(sep, pos);
    if (next == std::string_view::npos) next = text.size();
    if (next > pos) out.push_back(text.substr(pos, next - pos));
    pos = next + 1;
  }
  return out;
}

std::vector<std::string_view> path_components(std::string_view path) {
  return split_nonempty(path, '/');
}

Result<std::string> normalize_absolute(std::string_view path, std::string_view what) {
  std::string prefix = what.empty() ? std::string() : fmt::format("{} ", what);
  if (path.empty() || path.front() != '/')
    return make_error("{}`{}` is not an absolute path", prefix, path);
  std::string out;
  for (auto part : path_components(path)) {
    if (part == "." || part == "..")
      return make_error("{}`{}`: `.` and `..` are not allowed", prefix, path);
    out += '/';
    out += part;
  }
  return out.empty() ? std::string("/") : out;
}

Result<UniqueFd> open_dir(const std::string& path) {
  return open_dir_at(AT_FDCWD, path);
}

Result<UniqueFd> open_dir_at(int dirfd, const std::string& name) {
  UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
  if (fd) return fd;
  int err = errno;
  // O_DIRECTORY | O_NOFOLLOW on a symlink says ENOTDIR: say what it is.
  struct stat st {};
  if ((err == ENOTDIR || err == ELOOP) &&
      ::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
    return make_error("`{}` is a symbolic link: not following it", path_at(dirfd, name));
  return errno_error(err, "open directory `{}`", path_at(dirfd, name));
}

}  // namespace reaper::fs
