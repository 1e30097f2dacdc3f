// enter() and release(): the two calls a monitor makes.
//
// enter(), in the monitor, host namespace, single-threaded:
//   1. prepare the host directories (node-wide setup lock, see namespace.cc)
//   2. take the group's lock: creation, joins, bookkeeping and volume mounts
//      of one group are serialized, so concurrent first workloads end in
//      exactly one namespace and never see each other's half-made mounts
//   3. read who uses the group; a live record of the same container id
//      means this is an exec process: it only joins
//   4. open the persisted namespace, or create and persist it
//   5. clone the volume sources and the image, read the DNS file (host
//      namespace)
//   6. join: setns + chroot, root checked to be an overlayfs
//   7. clean up after processes that are gone (their volume mounts)
//   8. attach the volumes and the image, write the DNS file
//   9. record the caller (pid, start time, namespace, its mounts)
// Any failure returns an error naming the step; mounts made by this call
// are undone and nothing is recorded.

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "common/fs.h"
#include "overlay/internal.h"
#include "overlay/kernel.h"

namespace reaper::overlay {

namespace {

Status attach_and_record(std::vector<PreparedVolume>& volumes, const std::optional<DnsPlan>& dns,
                         const std::vector<uint64_t>& stale, UserEntry me,
                         std::vector<UserEntry> users, int users_dirfd, const std::string& group) {
  std::vector<UserMount> done;
  Status st = attach_volumes(volumes, stale, done);
  if (st.ok() && dns) st = apply_dns(*dns);
  if (st.ok()) {
    me.mounts = done;
    users.push_back(std::move(me));
    st = write_users(users_dirfd, group, users);
  }
  if (!st.ok()) {
    for (auto it = done.rbegin(); it != done.rend(); ++it) (void)unmount_if_current(*it);
  }
  return st;
}

Status enter_impl(const NodeConfig& cfg, const std::string& group, const oci::Spec& spec,
                  std::string_view container_id, const EnterOptions& opts,
                  const std::optional<Image>& image) {
  if (!cfg.overlay_enabled) return make_error("the overlay is disabled (REAPER_OVERLAY_ENABLED)");
  REAPER_TRY(validate_group(group));
  if (container_id.empty()) return make_error("no container id");
  auto p = paths_for(cfg, group);

  REAPER_TRY_CTX(prepare_host(cfg), "prepare the host");
  auto lock = REAPER_TRY(FileLock::acquire(p.lock_file));
  auto users_dir = REAPER_TRY(fs::open_dir(p.users_dir));
  auto users = REAPER_TRY(read_users(users_dir.get(), group));
  auto me = REAPER_TRY(self_entry(container_id));
  bool exec = std::any_of(users.begin(), users.end(), [&](const UserEntry& u) {
    return u.container_id == container_id && u.pid != me.pid && u.alive();
  });

  auto nsfd = REAPER_TRY(open_namespace(p));
  if (!nsfd) nsfd = REAPER_TRY_CTX(create_namespace(cfg, p, opts), "create the namespace");
  me.ns_inode = REAPER_TRY(namespace_inode(nsfd.get()));

  std::vector<PreparedVolume> volumes;
  std::optional<DnsPlan> dns;
  if (!exec) {
    volumes = REAPER_TRY(prepare_volumes(spec, opts));
    if (image) {
      REAPER_TRY_CTX(prepare_image_base(cfg.state_root), "image");
      volumes.push_back(REAPER_TRY(prepare_image(*image, opts)));
    }
    dns = REAPER_TRY_CTX(prepare_dns(cfg, spec), "dns");
  }

  REAPER_TRY(join_namespace(nsfd.get()));

  // Processes that are gone leave their volume mounts behind: unmount those
  // still on top of their destination, and forget the records.
  std::vector<UserEntry> live;
  std::vector<uint64_t> stale;
  for (auto& u : users) {
    if (u.alive()) {
      live.push_back(std::move(u));
      continue;
    }
    if (u.ns_inode != me.ns_inode) continue;  // an earlier incarnation of the group
    for (const auto& m : u.mounts) {
      stale.push_back(m.mount_id);
      (void)unmount_if_current(m);
    }
  }
  return attach_and_record(volumes, dns, stale, std::move(me), std::move(live), users_dir.get(),
                           group);
}

// --- release ------------------------------------------------------------------

// What a helper child needs to unmount one volume in another namespace,
// prepared before fork: the child only makes system calls (the caller may
// have threads, like the shim).
struct RawMount {
  std::string dest;
  uint64_t mount_id = 0;
};

void format_fd_path(char* buf, int fd) {
  const char* prefix = "/proc/self/fd/";
  size_t n = std::strlen(prefix);
  std::memcpy(buf, prefix, n);
  char digits[16];
  int len = 0;
  do {
    digits[len++] = static_cast<char>('0' + fd % 10);
    fd /= 10;
  } while (fd > 0 && len < 15);
  for (int i = 0; i < len; ++i) buf[n + static_cast<size_t>(i)] = digits[len - 1 - i];
  buf[n + static_cast<size_t>(len)] = '\0';
}

[[noreturn]] void unmount_child(int nsfd, const std::vector<RawMount>& mounts) {
  if (::setns(nsfd, CLONE_NEWNS) < 0) ::_exit(2);
  int failures = 0;
  for (const auto& m : mounts) {
    int fd = kernel::open_no_magiclinks(AT_FDCWD, m.dest.c_str());
    if (fd < 0) continue;
    kernel::MountInfo mi;
    if (kernel::mount_info_raw(fd, mi) && mi.id == m.mount_id && (!mi.root_known || mi.is_root)) {
      char path[64];
      format_fd_path(path, fd);
      if (::umount2(path, MNT_DETACH) < 0 && errno != EINVAL) ++failures;
    }
    ::close(fd);
  }
  ::_exit(failures == 0 ? 0 : 1);
}

Status unmount_in_namespace(int nsfd, const std::vector<RawMount>& mounts) {
  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork");
  if (pid == 0) unmount_child(nsfd, mounts);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return sys_error("wait for the unmount helper");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return make_error("could not unmount every volume in the group's namespace");
  return {};
}

Result<uint64_t> own_namespace_inode() {
  struct stat st {};
  if (::stat("/proc/self/ns/mnt", &st) < 0) return sys_error("stat /proc/self/ns/mnt");
  return static_cast<uint64_t>(st.st_ino);
}

Status release_impl(const NodeConfig& cfg, const std::string& group,
                    std::string_view container_id) {
  REAPER_TRY(validate_group(group));
  auto p = paths_for(cfg, group);
  struct stat sb {};
  if (::stat(p.users_dir.c_str(), &sb) < 0 && errno == ENOENT) return {};  // never entered
  auto lock = REAPER_TRY(FileLock::acquire(p.lock_file));
  auto users_dir = REAPER_TRY(fs::open_dir(p.users_dir));
  auto users = REAPER_TRY(read_users(users_dir.get(), group));
  pid_t self = ::getpid();

  std::vector<UserEntry> kept;
  std::vector<UserEntry> gone;
  for (auto& u : users) {
    bool mine = u.container_id == container_id && (u.pid == self || !u.alive());
    (mine ? gone : kept).push_back(std::move(u));
  }
  // Already released (the monitor did, `delete` comes after it): nothing
  // to unmount, and the record stays as it is.
  if (gone.empty()) return {};
  uint64_t here = REAPER_TRY(own_namespace_inode());

  Status result;
  UniqueFd nsfd;
  uint64_t group_ns = 0;
  std::vector<RawMount> elsewhere;
  for (const auto& u : gone) {
    for (const auto& m : u.mounts) {
      if (u.ns_inode == here) {
        if (auto st = unmount_if_current(m); !st && result.ok()) result = std::move(st);
        continue;
      }
      if (!nsfd) {
        auto fd = REAPER_TRY(open_namespace(p));
        if (!fd) break;  // the namespace is gone, and its mounts with it
        group_ns = REAPER_TRY(namespace_inode(fd.get()));
        nsfd = std::move(fd);
      }
      if (u.ns_inode == group_ns) elsewhere.push_back({m.dest, m.mount_id});
    }
  }
  if (!elsewhere.empty())
    if (auto st = unmount_in_namespace(nsfd.get(), elsewhere); !st && result.ok())
      result = std::move(st);
  // The records go even if an unmount failed: a later enter() cannot do
  // better, and `overlay reset` drops the whole namespace.
  REAPER_TRY(write_users(users_dir.get(), group, kept));
  return result;
}

}  // namespace

Status enter_with(const NodeConfig& cfg, const std::string& group, const oci::Spec& spec,
                  std::string_view container_id, const EnterOptions& opts,
                  const std::optional<Image>& image) {
  auto st = enter_impl(cfg, group, spec, container_id, opts, image);
  if (!st) return std::move(st).error().wrap(fmt::format("overlay `{}`", group));
  return {};
}

Status enter(const NodeConfig& cfg, const std::string& group, const oci::Spec& spec,
             std::string_view container_id, const std::optional<Image>& image) {
  return enter_with(cfg, group, spec, container_id, EnterOptions{}, image);
}

Status release(const NodeConfig& cfg, const std::string& group, std::string_view container_id) {
  if (group.empty() || !cfg.overlay_enabled) return {};
  auto st = release_impl(cfg, group, container_id);
  if (!st)
    return std::move(st).error().wrap(
        fmt::format("overlay `{}`: release `{}`", group, container_id));
  return {};
}

}  // namespace reaper::overlay
