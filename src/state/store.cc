#include "state/store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "common/fs.h"
#include "state/id.h"

namespace reaper::state {

Result<Store> Store::open(const std::string& root) {
  if (root.empty() || root[0] != '/')
    return make_error("state root `{}` must be an absolute path", root);
  REAPER_TRY(fs::mkdir_p(root, 0700));
  auto fd = REAPER_TRY(fs::open_dir(root));
  return Store(root, std::move(fd));
}

std::string Store::path_of(std::string_view id) const {
  return fmt::format("{}/{}", root_, id);
}

Result<UniqueFd> Store::create_dir(std::string_view id) const {
  REAPER_TRY(validate_id(id));
  // The overlay keeps its groups, namespaces and image mount points beside
  // the containers.
  if (id == "overlay" || id == "ns" || id == "image")
    return errno_error(EINVAL, "container id `{}` is reserved", id);
  std::string name(id);
  if (::mkdirat(root_fd_.get(), name.c_str(), 0700) < 0) {
    if (errno == EEXIST) return errno_error(EEXIST, "container `{}` already exists", id);
    return sys_error("create `{}`", path_of(id));
  }
  return fs::open_dir_at(root_fd_.get(), name);
}

Result<UniqueFd> Store::open_dir(std::string_view id) const {
  REAPER_TRY(validate_id(id));
  auto fd = fs::open_dir_at(root_fd_.get(), std::string(id));
  if (!fd && fd.error().err() == ENOENT)
    return errno_error(ENOENT, "container `{}` does not exist", id);
  return fd;
}

Status Store::remove_dir(std::string_view id) const {
  REAPER_TRY(validate_id(id));
  REAPER_TRY_CTX(remove_tree_at(root_fd_.get(), std::string(id)), "remove `{}`", path_of(id));
  return {};
}

Result<std::vector<std::string>> Store::list() const {
  UniqueFd fd(::openat(root_fd_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return sys_error("open `{}`", root_);
  DIR* dir = ::fdopendir(fd.release());
  if (dir == nullptr) return sys_error("read `{}`", root_);
  std::vector<std::string> ids;
  while (dirent* e = ::readdir(dir)) {
    if (e->d_type != DT_DIR) continue;
    std::string_view name = e->d_name;
    if (name == "overlay" || name == "ns" || name == "image") continue;  // not containers
    if (validate_id(name).ok()) ids.emplace_back(name);
  }
  ::closedir(dir);
  std::sort(ids.begin(), ids.end());
  return ids;
}

Result<std::vector<std::string>> exec_ids_at(int container_dirfd) {
  std::vector<std::string> out;
  UniqueFd exec_dir(
      ::openat(container_dirfd, "exec", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
  if (!exec_dir) return out;
  DIR* d = ::fdopendir(exec_dir.release());
  if (d == nullptr) return sys_error("read `{}`", fs::path_at(container_dirfd, "exec"));
  while (dirent* e = ::readdir(d)) {
    if (validate_id(e->d_name).ok()) out.emplace_back(e->d_name);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

Status remove_tree_at(int dirfd, const std::string& name) {
  if (::unlinkat(dirfd, name.c_str(), 0) == 0 || errno == ENOENT) return {};
  if (errno != EISDIR && errno != EPERM) return sys_error("unlink `{}`", name);
  UniqueFd sub(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
  if (!sub) return sys_error("open `{}`", name);
  DIR* dir = ::fdopendir(::dup(sub.get()));
  if (dir == nullptr) return sys_error("read `{}`", name);
  std::vector<std::string> entries;
  while (dirent* e = ::readdir(dir)) {
    std::string_view n = e->d_name;
    if (n != "." && n != "..") entries.emplace_back(n);
  }
  ::closedir(dir);
  for (const auto& e : entries) REAPER_TRY_CTX(remove_tree_at(sub.get(), e), "`{}`", name);
  if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT)
    return sys_error("rmdir `{}`", name);
  return {};
}

Result<DirLock> DirLock::acquire(int dirfd, std::string_view what) {
  UniqueFd fd(::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return sys_error("open {}", what);
  // Blocks until the holder releases it: the kernel wakes us, no polling.
  while (::flock(fd.get(), LOCK_EX) < 0) {
    if (errno != EINTR) return sys_error("lock {}", what);
  }
  return DirLock(std::move(fd));
}

}  // namespace reaper::state
