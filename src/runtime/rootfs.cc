#include "runtime/rootfs.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "common/fs.h"
#include "overlay/image.h"

namespace reaper::runtime {

namespace {

constexpr const char* record_name = "rootfs";
constexpr int max_stacked = 64;

struct FlagOption {
  std::string_view name;
  bool clear;  // the option removes the flag ("rw", "suid", ...)
  unsigned long flag;
};

constexpr FlagOption flag_options[] = {
    {"defaults", false, 0},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},
    {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},
    {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},
    {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},
    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},
    {"atime", true, MS_NOATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"diratime", true, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
};

struct PropagationOption {
  std::string_view name;
  unsigned long flags;
};

constexpr PropagationOption propagation_options[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

// `sub` (containerd 2.x Mount.target) below `rootfs`, without `.` or `..`.
Result<std::string> target_below(const std::string& rootfs, std::string_view sub) {
  std::string out = rootfs;
  for (auto part : fs::path_components(sub)) {
    if (part == ".") continue;
    if (part == "..") return errno_error(EINVAL, "target `{}`: `..` is not allowed", sub);
    out += '/';
    out += part;
  }
  return out;
}

std::string describe(const MountCall& c) {
  if (c.fstype.empty()) return fmt::format("bind `{}` on `{}`", c.source, c.target);
  return fmt::format("mount `{}` (type {}{}{}) on `{}`", c.source, c.fstype,
                     c.data.empty() ? "" : ", options ", c.data, c.target);
}

Status do_mount(const MountCall& c) {
  const char* fstype = c.fstype.empty() ? nullptr : c.fstype.c_str();
  const char* data = c.data.empty() ? nullptr : c.data.c_str();
  if (::mount(c.source.c_str(), c.target.c_str(), fstype, c.flags, data) < 0) {
    auto e = sys_error("{}", describe(c));
    long page = ::sysconf(_SC_PAGESIZE);
    if (e.err() == EINVAL && page > 0 && c.data.size() >= static_cast<size_t>(page))
      return e.wrap(fmt::format("the options are {} bytes, more than the kernel takes ({})",
                                c.data.size(), page - 1));
    return e;
  }
  if (c.remount != 0 &&
      ::mount(nullptr, c.target.c_str(), nullptr, MS_REMOUNT | MS_BIND | c.remount, nullptr) < 0)
    return sys_error("remount `{}` with its flags", c.target);
  if (c.propagation != 0 && ::mount(nullptr, c.target.c_str(), nullptr, c.propagation, nullptr) < 0)
    return sys_error("set the propagation of `{}`", c.target);
  return {};
}

Result<std::string> target_of(const oci::Spec& spec, const std::string& bundle) {
  std::string path = REAPER_TRY(overlay::rootfs_path(spec, bundle));
  return path.empty() ? bundle + "/rootfs" : path;
}

}  // namespace

Result<MountCall> plan_mount(const RootfsMount& m, const std::string& rootfs) {
  if (m.type.empty()) return errno_error(EINVAL, "a mount without a type");
  if (m.source.empty()) return errno_error(EINVAL, "a `{}` mount without a source", m.type);
  MountCall c;
  c.source = m.source;
  c.target = REAPER_TRY(target_below(rootfs, m.target));
  bool bind = m.type == "bind";
  bool recursive = false;
  unsigned long flags = 0;
  std::vector<std::string> data;
  for (const auto& o : m.options) {
    if (o == "bind" || o == "rbind") {
      bind = true;
      recursive = recursive || o == "rbind";
      continue;
    }
    if (o == "loop" || o == "remount")
      return errno_error(EINVAL, "`{}` mount of `{}`: option `{}` is not supported", m.type,
                         m.source, o);
    auto f = std::find_if(std::begin(flag_options), std::end(flag_options),
                          [&](const FlagOption& x) { return x.name == o; });
    if (f != std::end(flag_options)) {
      flags = f->clear ? flags & ~f->flag : flags | f->flag;
      continue;
    }
    auto p = std::find_if(std::begin(propagation_options), std::end(propagation_options),
                          [&](const PropagationOption& x) { return x.name == o; });
    if (p != std::end(propagation_options)) {
      c.propagation = p->flags;
      continue;
    }
    data.push_back(o);
  }
  if (bind) {
    if (!data.empty())
      return errno_error(EINVAL, "bind mount of `{}`: option `{}` does not apply to a bind",
                         m.source, data.front());
    // A bind ignores flags and data on the first call: flags need a remount.
    c.flags = MS_BIND | (recursive ? MS_REC : 0);
    c.remount = flags;
    return c;
  }
  c.fstype = m.type;
  c.flags = flags;
  for (const auto& d : data) c.data += (c.data.empty() ? "" : ",") + d;
  return c;
}

void MountedRootfs::unmount() {
  for (auto it = targets_.rbegin(); it != targets_.rend(); ++it) (void)unmount_all(*it);
  targets_.clear();
}

MountedRootfs& MountedRootfs::operator=(MountedRootfs&& o) noexcept {
  if (this != &o) {
    unmount();
    targets_ = std::exchange(o.targets_, {});
  }
  return *this;
}

MountedRootfs::~MountedRootfs() {
  unmount();
}

Status unmount_all(const std::string& target) {
  for (int i = 0; i < max_stacked; ++i) {
    if (::umount2(target.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) continue;
    if (errno == EINVAL || errno == ENOENT) return {};
    return sys_error("unmount `{}`", target);
  }
  return make_error("unmount `{}`: still mounted after {} unmounts", target, max_stacked);
}

Result<MountedRootfs> mount_rootfs(int container_dirfd, const oci::Spec& spec,
                                   const std::string& bundle,
                                   const std::vector<RootfsMount>& mounts) {
  if (mounts.empty()) return MountedRootfs();
  std::string target = REAPER_TRY_CTX(target_of(spec, bundle), "rootfs");
  std::vector<MountCall> calls;
  calls.reserve(mounts.size());
  for (const auto& m : mounts) calls.push_back(REAPER_TRY_CTX(plan_mount(m, target), "rootfs"));
  if (::mkdir(target.c_str(), 0711) < 0 && errno != EEXIST)
    return sys_error("rootfs: mkdir `{}`", target);
  std::vector<std::string> targets;
  targets.reserve(calls.size());
  std::string record;
  for (const auto& c : calls) {
    targets.push_back(c.target);
    record += c.target + "\n";
  }
  // Recorded first: a crash after the mount still leaves it to delete.
  REAPER_TRY_CTX(fs::write_file_atomic_at(container_dirfd, record_name, record),
                 "rootfs: record `{}`", target);
  MountedRootfs mounted(std::move(targets));
  for (const auto& c : calls) REAPER_TRY_CTX(do_mount(c), "rootfs");
  return mounted;
}

Status release_rootfs(int container_dirfd) {
  auto text = fs::read_file_at(container_dirfd, record_name, 4096);
  if (!text) {
    if (text.error().err() == ENOENT) return {};
    return std::move(text).error().wrap("rootfs");
  }
  std::vector<std::string> targets;
  size_t pos = 0;
  while (pos < text->size()) {
    size_t end = text->find('\n', pos);
    if (end == std::string::npos) end = text->size();
    std::string line = text->substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) continue;
    if (line.front() != '/')
      return make_error("rootfs: `{}`: `{}` is not an absolute path",
                        fs::path_at(container_dirfd, record_name), line);
    targets.push_back(std::move(line));
  }
  for (auto it = targets.rbegin(); it != targets.rend(); ++it)
    REAPER_TRY_CTX(unmount_all(*it), "rootfs");
  if (::unlinkat(container_dirfd, record_name, 0) < 0 && errno != ENOENT)
    return sys_error("rootfs: remove `{}`", fs::path_at(container_dirfd, record_name));
  return {};
}

}  // namespace reaper::runtime
