#include "overlay/image.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "common/fs.h"

namespace reaper::overlay {

namespace {

// True when the directory has an entry besides `.` and `..`.
Result<bool> has_entries(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return sys_error("open `{}`", dir);
  DIR* d = ::fdopendir(fd);
  if (d == nullptr) {
    ::close(fd);
    return sys_error("read `{}`", dir);
  }
  bool found = false;
  errno = 0;
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name != "." && name != "..") {
      found = true;
      break;
    }
  }
  int err = errno;
  ::closedir(d);
  if (!found && err != 0) return errno_error(err, "read `{}`", dir);
  return found;
}

}  // namespace

std::string image_path(std::string_view state_root, std::string_view id) {
  std::string root(state_root);
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  if (root == "/") root.clear();
  return fmt::format("{}/{}/{}", root, image_dir_name, id);
}

Result<std::string> rootfs_path(const oci::Spec& spec, std::string_view bundle) {
  if (spec.root_path.empty()) return std::string();
  std::string joined =
      spec.root_path.front() == '/' ? spec.root_path : fmt::format("{}/{}", bundle, spec.root_path);
  std::string out;
  size_t pos = 0;
  while (pos < joined.size()) {
    size_t next = joined.find('/', pos);
    if (next == std::string::npos) next = joined.size();
    std::string_view part(joined.data() + pos, next - pos);
    pos = next + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") return make_error("root.path `{}`: `..` is not allowed", spec.root_path);
    out += '/';
    out += part;
  }
  if (out.empty()) return make_error("root.path `{}` names `/`", spec.root_path);
  return out;
}

Result<std::optional<Image>> find_image(const oci::Spec& spec, std::string_view bundle,
                                        std::string_view state_root, std::string_view id) {
  std::string path = REAPER_TRY(rootfs_path(spec, bundle));
  if (path.empty()) return std::optional<Image>();
  struct stat st {};
  if (::stat(path.c_str(), &st) < 0) {
    if (errno == ENOENT) return std::optional<Image>();
    return sys_error("image: root.path `{}`", path);
  }
  if (!S_ISDIR(st.st_mode))
    return errno_error(ENOTDIR, "image: root.path `{}` is not a directory", path);
  if (!REAPER_TRY_CTX(has_entries(path), "image")) return std::optional<Image>();
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr)
    return sys_error("image: resolve root.path `{}`", path);
  return std::optional<Image>(Image{resolved, image_path(state_root, id)});
}

void set_image_env(std::vector<std::string>& env, std::string_view dir) {
  std::string prefix = fmt::format("{}=", image_root_env);
  std::erase_if(env, [&](const std::string& e) { return e.starts_with(prefix); });
  env.push_back(prefix + std::string(dir));
}

Status prepare_image_base(const std::string& state_root) {
  auto root = REAPER_TRY(fs::open_dir(state_root));
  struct stat st {};
  if (::fstat(root.get(), &st) < 0) return sys_error("stat `{}`", state_root);
  if ((st.st_mode & 0011) != 0011 && ::fchmod(root.get(), (st.st_mode & 07777) | 0011) < 0)
    return sys_error("let workloads search `{}` (chmod g+x,o+x)", state_root);
  std::string name(image_dir_name);
  if (::mkdirat(root.get(), name.c_str(), 0711) < 0 && errno != EEXIST)
    return sys_error("mkdir `{}/{}`", state_root, name);
  auto dir = REAPER_TRY(fs::open_dir_at(root.get(), name));
  if (::fchmod(dir.get(), 0711) < 0) return sys_error("chmod `{}/{}`", state_root, name);
  return {};
}

Status remove_image_dir(const std::string& state_root, std::string_view id) {
  auto root = fs::open_dir(state_root);
  if (!root) return root.error().err() == ENOENT ? Status() : Status(std::move(root).error());
  return remove_image_dir_at(root->get(), id);
}

Status remove_image_dir_at(int state_root_fd, std::string_view id) {
  auto dir = fs::open_dir_at(state_root_fd, std::string(image_dir_name));
  if (!dir) return dir.error().err() == ENOENT ? Status() : Status(std::move(dir).error());
  if (::unlinkat(dir->get(), std::string(id).c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT)
    return sys_error("remove `{}`", fs::path_at(dir->get(), std::string(id)));
  return {};
}

}  // namespace reaper::overlay
