// Volumes and DNS: what kubelet prepared on the host, made visible in the view.
//
// A volume's source is usually a mount of the host namespace (a tmpfs for
// secrets and projected volumes, a bind for hostPath): the view cannot see
// it, since its lower layer is the root filesystem alone and its namespace
// does not receive the host's mounts outside /proc /sys /dev /run. So each
// source is cloned with open_tree(OPEN_TREE_CLONE) while the caller is still
// in the host namespace; the clone is a detached mount tree held by an fd,
// which stays valid across setns, and move_mount attaches it in the view.
// Read-only and the other mount flags are set on the detached tree with
// mount_setattr, so the volume is never writable, not even briefly; kernels
// without mount_setattr (< 5.12) get a bind remount after attaching.
//
// Fallback for kernels without open_tree (< 5.2): a source that lives on the
// host's root filesystem is visible in the view through the lower layer and
// is bind-mounted from there (it then shows the overlay's version of that
// directory, and writes through it land in the upper layer). Any other source
// is refused with an error naming the kernel requirement.
//
// Destinations are resolved in the view, following ordinary symlinks but not
// /proc magic links (a workload cannot redirect a later volume into the host
// through /proc/1/root), and created when missing. The namespace is shared,
// so a destination may carry the mount of an earlier process: it is removed
// only when that process is gone (its mount id is in `stale`); a live one's
// mount stays underneath and shows again when the newer one is released.

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>

#include "common/fs.h"
#include "common/syscalls.h"
#include "overlay/internal.h"
#include "overlay/kernel.h"

namespace reaper::overlay {

namespace {

constexpr std::string_view kubelet_files[] = {"/etc/hosts", "/etc/hostname", "/etc/resolv.conf",
                                              "/dev/termination-log"};
constexpr std::string_view view_dirs[] = {"/proc", "/sys", "/dev"};

bool has_option(const oci::Mount& m, std::string_view opt) {
  return std::find(m.options.begin(), m.options.end(), opt) != m.options.end();
}

Result<std::string> normalize(std::string_view path, std::string_view what) {
  return fs::normalize_absolute(path, what);
}

bool skipped_destination(const std::string& dest) {
  for (auto d : view_dirs)
    if (kernel::path_within(dest, d)) return true;
  return std::find(std::begin(kubelet_files), std::end(kubelet_files), dest) !=
         std::end(kubelet_files);
}

uint64_t mount_attrs(const oci::Mount& m) {
  uint64_t attrs = 0;
  for (const auto& o : m.options) {
    if (o == "ro") attrs |= kernel::mount_attr_rdonly;
    if (o == "rw") attrs &= ~kernel::mount_attr_rdonly;
    if (o == "nosuid") attrs |= kernel::mount_attr_nosuid;
    if (o == "suid") attrs &= ~kernel::mount_attr_nosuid;
    if (o == "nodev") attrs |= kernel::mount_attr_nodev;
    if (o == "dev") attrs &= ~kernel::mount_attr_nodev;
    if (o == "noexec") attrs |= kernel::mount_attr_noexec;
    if (o == "exec") attrs &= ~kernel::mount_attr_noexec;
  }
  return attrs;
}

// A clone of a mount that is shared on the host (every mount of a systemd
// host is) is a peer of it: without a change, what the workload mounts
// below a volume would appear on the host, and the other way round.
// Kubernetes' mountPropagation arrives as CRI's options: `rprivate` (None,
// the default), `rslave` (HostToContainer), `rshared` (Bidirectional, only
// for privileged containers, kubelet checks): the clone is left a peer.
uint64_t propagation(const oci::Mount& m) {
  uint64_t p = MS_PRIVATE;
  for (const auto& o : m.options) {
    if (o == "rprivate" || o == "private") p = MS_PRIVATE;
    if (o == "rslave" || o == "slave") p = MS_SLAVE;
    if (o == "rshared" || o == "shared") p = 0;
  }
  return p;
}

unsigned long ms_flags(uint64_t attrs) {
  unsigned long f = 0;
  if ((attrs & kernel::mount_attr_rdonly) != 0) f |= MS_RDONLY;
  if ((attrs & kernel::mount_attr_nosuid) != 0) f |= MS_NOSUID;
  if ((attrs & kernel::mount_attr_nodev) != 0) f |= MS_NODEV;
  if ((attrs & kernel::mount_attr_noexec) != 0) f |= MS_NOEXEC;
  return f;
}

Result<PreparedVolume> prepare_one(const oci::Mount& m, const EnterOptions& opts) {
  PreparedVolume v;
  v.dest = REAPER_TRY(normalize(m.destination, "destination"));
  if (v.dest == "/") return make_error("a volume cannot be mounted on `/`");
  if (m.source.empty()) return make_error("no source");
  v.source = REAPER_TRY(normalize(m.source, "source"));
  struct stat st {};
  if (::stat(v.source.c_str(), &st) < 0) return sys_error("source `{}`", v.source);
  v.is_dir = S_ISDIR(st.st_mode);
  v.recursive = has_option(m, "rbind");
  v.attrs = mount_attrs(m);
  v.propagation = propagation(m);

  if (!opts.force_no_open_tree) {
    unsigned flags = sys::open_tree_clone | sys::open_tree_cloexec;
    if (v.recursive) flags |= kernel::at_recursive;
    int fd = sys::open_tree(AT_FDCWD, v.source.c_str(), flags);
    if (fd < 0 && errno != ENOSYS) return sys_error("clone the mount of `{}`", v.source);
    v.tree.reset(fd);
  }
  if (!v.tree) {
    struct stat root {};
    if (::stat("/", &root) < 0) return sys_error("stat `/`");
    if (st.st_dev != root.st_dev)
      return errno_error(ENOSYS,
                         "source `{}` is not on the root filesystem, and without open_tree(2) "
                         "(Linux >= 5.2) it cannot be carried into the overlay view",
                         v.source);
    return v;
  }
  if (v.attrs != 0 || v.propagation != 0) {
    kernel::MountAttr attr;
    attr.attr_set = v.attrs;
    attr.propagation = v.propagation;
    unsigned flags = AT_EMPTY_PATH | (v.recursive ? kernel::at_recursive : 0U);
    if (kernel::mount_setattr(v.tree.get(), "", flags, &attr) == 0) {
      v.attrs_applied = true;
    } else if (errno != ENOSYS) {
      return sys_error("set the mount flags of the clone of `{}`", v.source);
    }
  }
  return v;
}

// Removes the mounts of gone processes still stacked on `dest`; returns the
// fd of what is left there.
Result<UniqueFd> clear_stale(UniqueFd fd, const PreparedVolume& v,
                             const std::vector<uint64_t>& stale) {
  for (int i = 0; i < 64; ++i) {
    auto mi = REAPER_TRY(kernel::mount_info(fd.get()));
    if (mi.root_known && !mi.is_root) break;
    if (std::find(stale.begin(), stale.end(), mi.id) == stale.end()) break;
    if (::umount2(kernel::fd_path(fd.get()).c_str(), MNT_DETACH) < 0) {
      if (errno == EINVAL) break;
      return sys_error("unmount the stale mount on `{}`", v.dest);
    }
    fd = REAPER_TRY(kernel::open_or_create(v.dest, v.is_dir));
  }
  return fd;
}

Status attach_one(PreparedVolume& v, const std::vector<uint64_t>& stale,
                  std::vector<UserMount>& done) {
  auto fd = REAPER_TRY(kernel::open_or_create(v.dest, v.is_dir));
  long type = REAPER_TRY(kernel::fs_type(fd.get()));
  if (type == kernel::proc_magic || type == kernel::sysfs_magic)
    return make_error("the destination resolves into /proc or /sys");
  fd = REAPER_TRY(clear_stale(std::move(fd), v, stale));
  if (v.tree) {
    if (sys::move_mount(v.tree.get(), "", fd.get(), "",
                        sys::move_mount_f_empty_path | kernel::move_mount_t_empty_path) < 0)
      return sys_error("attach the clone of `{}`", v.source);
    v.tree.reset();
  } else {
    unsigned long flags = MS_BIND;
    if (v.recursive) flags |= MS_REC;
    if (::mount(v.source.c_str(), kernel::fd_path(fd.get()).c_str(), nullptr, flags, nullptr) < 0)
      return sys_error("bind `{}`", v.source);
  }
  auto top = REAPER_TRY(kernel::open_existing(v.dest));
  if (!top) return make_error("the mount vanished after attaching");
  auto mi = REAPER_TRY(kernel::mount_info(top.get()));
  done.push_back({v.dest, mi.id});
  if (v.attrs != 0 && !v.attrs_applied) {
    struct statvfs sv {};
    if (::fstatvfs(top.get(), &sv) < 0) return sys_error("statvfs");
    unsigned long keep = 0;
    if ((sv.f_flag & ST_NOSUID) != 0) keep |= MS_NOSUID;
    if ((sv.f_flag & ST_NODEV) != 0) keep |= MS_NODEV;
    if ((sv.f_flag & ST_NOEXEC) != 0) keep |= MS_NOEXEC;
    if ((sv.f_flag & ST_RDONLY) != 0) keep |= MS_RDONLY;
    if (::mount(nullptr, kernel::fd_path(top.get()).c_str(), nullptr,
                MS_REMOUNT | MS_BIND | keep | ms_flags(v.attrs), nullptr) < 0)
      return sys_error("remount with its flags");
  }
  // Without mount_setattr (< 5.12), or with the pre-open_tree bind: the
  // propagation is changed once attached, before the workload exists.
  if (v.propagation != 0 && !v.attrs_applied) {
    unsigned long rec = v.recursive ? MS_REC : 0;
    if (::mount(nullptr, kernel::fd_path(top.get()).c_str(), nullptr, rec | v.propagation,
                nullptr) < 0)
      return sys_error("make the mount of `{}` {}", v.source,
                       v.propagation == MS_SLAVE ? "a slave" : "private");
  }
  return {};
}

// Reads a file following symlinks (resolv.conf is often one).
Result<std::optional<std::string>> read_optional(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return std::optional<std::string>();
    return sys_error("open `{}`", path);
  }
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read `{}`", path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (1 << 20)) return make_error("`{}` is larger than 1 MiB", path);
  }
  return std::optional<std::string>(std::move(out));
}

}  // namespace

bool is_volume(const oci::Mount& m) {
  bool bind = m.type == "bind" || has_option(m, "bind") || has_option(m, "rbind");
  if (!bind) return false;
  auto dest = normalize(m.destination, "destination");
  // An unusable destination is reported by prepare_volumes.
  return !dest.ok() || !skipped_destination(*dest);
}

Result<std::vector<PreparedVolume>> prepare_volumes(const oci::Spec& spec,
                                                    const EnterOptions& opts) {
  std::vector<PreparedVolume> out;
  for (const auto& m : spec.mounts) {
    if (!is_volume(m)) continue;
    out.push_back(REAPER_TRY_CTX(prepare_one(m, opts), "volume `{}`", m.destination));
  }
  return out;
}

Result<PreparedVolume> prepare_image(const Image& image, const EnterOptions& opts) {
  // Recursive (whatever is mounted below the rootfs comes along), read-only,
  // and neither setuid binaries nor device nodes of the image take effect
  // on the host.
  oci::Mount m{image.dest, "bind", image.source, {"rbind", "ro", "nosuid", "nodev"}};
  auto v = REAPER_TRY_CTX(prepare_one(m, opts), "image `{}`", image.source);
  if (!v.is_dir) return errno_error(ENOTDIR, "image `{}` is not a directory", image.source);
  v.what = "image";
  return v;
}

Status attach_volumes(std::vector<PreparedVolume>& volumes, const std::vector<uint64_t>& stale,
                      std::vector<UserMount>& done) {
  for (auto& v : volumes) REAPER_TRY_CTX(attach_one(v, stale, done), "{} `{}`", v.what, v.dest);
  return {};
}

Status unmount_if_current(const UserMount& m) {
  auto fd = REAPER_TRY(kernel::open_existing(m.dest));
  if (!fd) return {};
  auto mi = REAPER_TRY(kernel::mount_info(fd.get()));
  if (mi.id != m.mount_id || (mi.root_known && !mi.is_root)) return {};
  if (::umount2(kernel::fd_path(fd.get()).c_str(), MNT_DETACH) < 0 && errno != EINVAL)
    return sys_error("unmount `{}`", m.dest);
  return {};
}

Result<DnsPlan> prepare_dns(const NodeConfig& cfg, const oci::Spec& spec) {
  DnsPlan plan;
  plan.mode = REAPER_TRY(dns_mode_for(cfg, spec.annotations));
  if (plan.mode == DnsMode::host) {
    plan.origin = "the host's /etc/resolv.conf";
    plan.content = REAPER_TRY(read_optional("/etc/resolv.conf"));
    return plan;
  }
  const oci::Mount* resolv = nullptr;
  for (const auto& m : spec.mounts) {
    auto dest = normalize(m.destination, "destination");
    if (dest.ok() && *dest == "/etc/resolv.conf") resolv = &m;
  }
  if (resolv == nullptr || resolv->source.empty())
    return make_error(
        "DNS mode is kubernetes but the container has no /etc/resolv.conf mount with a source "
        "(kubelet prepares one per pod)");
  plan.origin = resolv->source;
  auto content = REAPER_TRY(read_optional(resolv->source));
  if (!content)
    return errno_error(ENOENT, "kubelet's resolv.conf `{}` does not exist", resolv->source);
  if (content->empty()) return make_error("kubelet's resolv.conf `{}` is empty", resolv->source);
  plan.content = std::move(content);
  return plan;
}

Status apply_dns(const DnsPlan& plan) {
  if (!plan.content) return {};
  auto current = REAPER_TRY(read_optional("/etc/resolv.conf"));
  if (current && *current == *plan.content) return {};
  UniqueFd etc(::open("/etc", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!etc) return sys_error("open `/etc`");
  REAPER_TRY_CTX(kernel::replace_file_at(etc.get(), "resolv.conf", *plan.content, 0644, 0, 0),
                 "write /etc/resolv.conf from {}", plan.origin);
  return {};
}

}  // namespace reaper::overlay
