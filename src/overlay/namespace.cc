// The group's mount namespace: built once by a short-lived helper child,
// persisted by a bind mount of its nsfs file, joined by every workload.
//
// Building (helper child, in its own new mount namespace):
//   1. unshare(CLONE_NEWNS) and make every mount a slave: the view then
//      follows the host's mounts and unmounts under /proc /sys /dev /run
//      (kubelet and containerd mounts come and go there; a private copy would
//      pin every one of them for the life of the group), while nothing
//      mounted in the view ever propagates back to the host.
//   2. mount overlayfs lowerdir=/,upperdir=<g>/upper,workdir=<g>/work on <g>/merged.
//      lowerdir=/ is the host's root filesystem only: other filesystems
//      mounted below / on the host are not part of the view (docs/security.md).
//   3. rbind /proc /sys /dev /run (and the state root and ns dir when they are
//      elsewhere) into it; /tmp stays in the overlay. When the overlay base is
//      under /run, the rbind of /run also copied the overlay mount into the
//      view at its own path; that copy is detached.
//   4. mask sensitive paths, chrooted into the view so that every path
//      resolves as a workload will see it (placeholders come from a staging
//      tmpfs on <g>/mask, detached afterwards); hide the overlay base itself
//      (a workload must not write into a live upper layer).
//   5. pivot_root into the view and detach the host's root, check that `/`
//      is the overlayfs, report ready over a pipe.
// The parent, still in the host namespace, bind-mounts /proc/<helper>/ns/mnt
// onto <ns dir>/<group>, then tells the helper to exit: the namespace lives on
// through the bind mount, with no process to babysit.
//
// Why <ns dir> is a private mount: binding an nsfs file onto a mount that has
// peers fails with EINVAL (the kernel refuses to propagate namespace files),
// and on systemd hosts /run is shared. Making <ns dir> a bind mount of itself
// with private propagation (what `ip netns` does for /run/netns, but private)
// lets the bind succeed, keeps the namespace files from propagating into other
// namespaces, and also into the views: a view's copy of <ns dir> is taken when
// its namespace is created, and copying a namespace never copies nsfs mounts,
// so a view cannot hold a reference to its own or another group's namespace
// (the loop the kernel forbids).
//
// Fallback: where the bind still fails with EINVAL (nested setups), an anchor
// process joins the namespace and stays (own session, stdio on /dev/null, no
// inherited fds, not a descendant of the monitor), and
// <ns dir>/.anchors/<group> records "<pid> <namespace inode>"; joiners check
// that inode before setns, so a reused pid is never joined.

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>

#include "common/fs.h"
#include "common/syscalls.h"
#include "overlay/internal.h"
#include "overlay/kernel.h"
#include "process/proc.h"

namespace reaper::overlay {

namespace {

constexpr unsigned long ns_get_nstype = _IO(0xb7, 0x3);  // NS_GET_NSTYPE (linux/nsfs.h)

// A forked child that is killed and reaped unless released.
class OwnedChild {
 public:
  explicit OwnedChild(pid_t pid) : pid_(pid) {}
  OwnedChild(const OwnedChild&) = delete;
  OwnedChild& operator=(const OwnedChild&) = delete;
  ~OwnedChild() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    (void)wait();
  }
  [[nodiscard]] pid_t pid() const { return pid_; }
  // Waits for the child; returns its wait status.
  int wait() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_;
};

struct Pipe {
  UniqueFd read, write;
};

Result<Pipe> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) return sys_error("pipe");
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// --- the helper child -------------------------------------------------------

struct BuildPlan {
  GroupPaths p;
  std::vector<std::string> binds;  // host directories rbound into the view
  std::string overlay_base;        // hidden in the view
  MaskPlan masks;
};

Status bind_into_view(const std::string& merged, const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) < 0) {
    if (errno == ENOENT) return {};
    return sys_error("stat `{}`", dir);
  }
  std::string target = merged + dir;
  REAPER_TRY(fs::mkdir_p(target, 0755));
  if (::mount(dir.c_str(), target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
    return sys_error("bind `{}` into the view at `{}`", dir, target);
  return {};
}

// Masks the view while chrooted into it, placeholders from a staging tmpfs.
Status mask_view(const BuildPlan& plan) {
  const auto& p = plan.p;
  if (::mount(kernel::mask_source, p.mask.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "mode=0700,size=64k") < 0)
    return sys_error("mount the masking staging tmpfs on `{}`", p.mask);
  {
    std::string empty_path = p.mask + "/empty";
    UniqueFd f(::open(empty_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
    if (!f || ::fchmod(f.get(), 0444) < 0) return sys_error("create `{}`", empty_path);
    UniqueFd empty(::open(empty_path.c_str(), O_PATH | O_CLOEXEC));
    if (!empty) return sys_error("open `{}`", empty_path);
    UniqueFd host_root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!host_root) return sys_error("open `/`");
    if (::chroot(p.merged.c_str()) < 0 || ::chdir("/") < 0)
      return sys_error("chroot into the view `{}`", p.merged);
    Status masked = apply_masks(plan.masks, empty.get());
    if (masked.ok()) masked = mask_directory(plan.overlay_base);
    if (::fchdir(host_root.get()) < 0 || ::chroot(".") < 0) return sys_error("leave the view");
    if (!masked) return masked;
  }
  if (::umount2(p.mask.c_str(), MNT_DETACH) < 0)
    return sys_error("detach the masking staging tmpfs `{}`", p.mask);
  return {};
}

Status build_view(const BuildPlan& plan) {
  const auto& p = plan.p;
  if (::unshare(CLONE_NEWNS) < 0) return sys_error("unshare the mount namespace");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) < 0)
    return sys_error("make `/` a recursive slave");
  std::string opts = fmt::format("lowerdir=/,upperdir={},workdir={}", p.upper, p.work);
  if (::mount("overlay", p.merged.c_str(), "overlay", 0, opts.c_str()) < 0)
    return sys_error("mount overlayfs on `{}`", p.merged);
  for (const auto& dir : plan.binds) REAPER_TRY(bind_into_view(p.merged, dir));
  std::string copy = p.merged + p.merged;
  if (::umount2(copy.c_str(), MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
    return sys_error("detach the view's copy of itself at `{}`", copy);
  REAPER_TRY(mask_view(plan));
  if (::chdir(p.merged.c_str()) < 0) return sys_error("chdir `{}`", p.merged);
  if (sys::pivot_root(".", ".") < 0) return sys_error("pivot_root into `{}`", p.merged);
  // The old root is now stacked on `.`: detach it (and everything below it).
  if (::umount2(".", MNT_DETACH) < 0) return sys_error("detach the host's root");
  if (::chdir("/") < 0) return sys_error("chdir `/`");
  if (REAPER_TRY(kernel::fs_type("/")) != kernel::overlayfs_magic)
    return make_error("the view's root is not an overlayfs after pivot_root");
  return {};
}

// Error report from the helper: 'E', errno (int32), message.
void report_error(int fd, const Error& e) {
  std::string msg(1, 'E');
  int32_t err = e.err();
  msg.append(reinterpret_cast<const char*>(&err), sizeof err);
  msg += e.message().substr(0, 3000);
  (void)fs::write_all(fd, msg);
}

void close_fds_except(int a, int b) {
  int lo = std::min(a, b);
  int hi = std::max(a, b);
  auto close_span = [](unsigned first, unsigned last) {
    if (first > last) return;
    if (sys::close_range(first, last, 0) == 0) return;
    rlimit rl{};
    unsigned limit = ::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536
                         ? static_cast<unsigned>(rl.rlim_cur)
                         : 65536U;
    for (unsigned fd = first; fd <= last && fd < limit; ++fd) ::close(static_cast<int>(fd));
  };
  if (lo > 3) close_span(3, static_cast<unsigned>(lo - 1));
  if (hi > lo + 1) close_span(static_cast<unsigned>(lo + 1), static_cast<unsigned>(hi - 1));
  close_span(static_cast<unsigned>(hi + 1), ~0U);
}

// Runs in the forked helper; never returns.
[[noreturn]] void helper_main(const BuildPlan& plan, pid_t parent, int ready_fd, int go_fd) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(1);
  // A clean process: default signal handling, nothing blocked, no inherited
  // fds (a lock or the container's stdio must not live on in an anchor).
  for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  close_fds_except(ready_fd, go_fd);
  ::umask(022);
  int devnull = ::open("/dev/null", O_RDWR);
  if (devnull >= 0) {
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    if (devnull > 2) ::close(devnull);
  }
  if (auto st = build_view(plan); !st) {
    report_error(ready_fd, st.error());
    ::_exit(1);
  }
  if (!fs::write_all(ready_fd, "R").ok()) ::_exit(1);
  // Stay until the parent has persisted the namespace (or started an anchor).
  char what = 0;
  ssize_t n;
  while ((n = ::read(go_fd, &what, 1)) < 0 && errno == EINTR) {
  }
  ::_exit(n == 1 && what == 'X' ? 0 : 1);
}

// The fallback anchor: joins the namespace and waits until `overlay reset`
// kills it. It holds nothing else: no inherited fd (a lock, the container's
// stdio), stdio on /dev/null, its own session. `ps` shows it as
// `reaper-anchor --group G`: forked from a monitor, it would otherwise show
// that monitor's command line (and match a search for monitors) for as
// long as the group lives.
[[noreturn]] void anchor_main(int nsfd, int ready_fd, const std::string& group) {
  for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  close_fds_except(nsfd, ready_fd);
  int devnull = ::open("/dev/null", O_RDWR);
  if (devnull >= 0) {
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    if (devnull > 2) ::close(devnull);
  }
  if (::setns(nsfd, CLONE_NEWNS) < 0 || ::chdir("/") < 0) ::_exit(1);
  ::close(nsfd);
  ::setsid();
  ::prctl(PR_SET_NAME, "reaper-anchor");
  (void)proc::rewrite_command_line({"reaper-anchor", "--group", group});  // for ps only
  if (::write(ready_fd, "R", 1) != 1) ::_exit(1);
  ::close(ready_fd);
  for (;;) ::pause();
}

// Starts the anchor with CLONE_PARENT: it becomes a sibling of the caller
// (the monitor), not a descendant, because a monitor ends every descendant
// when its workload ends. Returns once the anchor is in the namespace.
Result<pid_t> start_anchor(int nsfd, const std::string& group) {
  auto ready = REAPER_TRY(make_pipe());
  pid_t pid = static_cast<pid_t>(::syscall(SYS_clone, CLONE_PARENT, 0, 0, 0, 0));
  if (pid < 0) return sys_error("start the namespace anchor");
  if (pid == 0) anchor_main(nsfd, ready.write.get(), group);
  ready.write.reset();
  std::string got;
  char c;
  ssize_t n;
  while ((n = ::read(ready.read.get(), &c, 1)) != 0) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    got += c;
  }
  if (got != "R") {
    ::kill(pid, SIGKILL);
    return make_error("the namespace anchor could not join the namespace");
  }
  return pid;
}

// Reads the helper's report: ok once it is ready, its error otherwise.
Status read_report(int fd, OwnedChild& child) {
  std::string buf;
  char chunk[1024];
  for (;;) {
    ssize_t n = ::read(fd, chunk, buf.empty() ? 1 : sizeof chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read the helper's report");
    }
    if (n == 0) break;
    buf.append(chunk, static_cast<size_t>(n));
    if (buf == "R") return {};
  }
  int status = child.wait();
  if (buf.size() >= 1 + sizeof(int32_t) && buf[0] == 'E') {
    int32_t err = 0;
    std::copy_n(buf.data() + 1, sizeof err, reinterpret_cast<char*>(&err));
    return Error(err, buf.substr(1 + sizeof err));
  }
  if (WIFSIGNALED(status))
    return make_error("the namespace helper was killed by signal {}", WTERMSIG(status));
  return make_error("the namespace helper exited with status {} before it was ready",
                    WEXITSTATUS(status));
}

Status make_group_dirs(const GroupPaths& p) {
  REAPER_TRY(fs::mkdir_p(p.dir, 0700));
  // The view's `/` takes the mode and owner of the upper layer's root.
  struct stat root {};
  if (::stat("/", &root) < 0) return sys_error("stat `/`");
  if (::mkdir(p.upper.c_str(), 0755) < 0 && errno != EEXIST)
    return sys_error("mkdir `{}`", p.upper);
  if (::chown(p.upper.c_str(), root.st_uid, root.st_gid) < 0 ||
      ::chmod(p.upper.c_str(), root.st_mode & 07777) < 0)
    return sys_error("set the mode of `{}`", p.upper);
  for (const auto* d : {&p.work, &p.merged, &p.mask})
    if (::mkdir(d->c_str(), 0700) < 0 && errno != EEXIST) return sys_error("mkdir `{}`", *d);
  return {};
}

std::vector<std::string> view_binds(const NodeConfig& cfg) {
  std::vector<std::string> binds = {"/proc", "/sys", "/dev", "/run"};
  // Monitors write their records under the state root from inside the view,
  // and release() locks files in the ns dir: both must be the host's.
  for (const auto& dir : {cfg.state_root, cfg.ns_dir()}) {
    bool covered = std::any_of(binds.begin(), binds.end(),
                               [&](const std::string& b) { return kernel::path_within(dir, b); });
    if (!covered) binds.push_back(dir);
  }
  return binds;
}

bool parse_anchor(std::string_view text, pid_t& pid, uint64_t& ino) {
  auto sp = text.find(' ');
  if (sp == std::string_view::npos) return false;
  std::string_view a = text.substr(0, sp);
  std::string_view b = text.substr(sp + 1);
  while (!b.empty() && (b.back() == '\n' || b.back() == ' ')) b.remove_suffix(1);
  auto r1 = std::from_chars(a.data(), a.data() + a.size(), pid);
  auto r2 = std::from_chars(b.data(), b.data() + b.size(), ino);
  return r1.ec == std::errc() && r2.ec == std::errc() && pid > 0;
}

// The anchor's namespace, if the anchor still lives and still is in it.
Result<UniqueFd> open_anchor(const GroupPaths& p, pid_t* pid_out = nullptr) {
  auto text = fs::read_file(p.anchor_file, 256);
  if (!text.ok()) {
    if (text.error().err() == ENOENT) return UniqueFd();
    return std::move(text).error();
  }
  pid_t pid = 0;
  uint64_t ino = 0;
  if (!parse_anchor(*text, pid, ino)) return make_error("`{}`: malformed", p.anchor_file);
  UniqueFd fd(::open(fmt::format("/proc/{}/ns/mnt", pid).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return UniqueFd();
  struct stat st {};
  if (::fstat(fd.get(), &st) < 0 || st.st_ino != ino) return UniqueFd();
  if (pid_out != nullptr) *pid_out = pid;
  return fd;
}

}  // namespace

Status prepare_host(const NodeConfig& cfg) {
  std::string ns = cfg.ns_dir();
  std::string base = cfg.overlay_base_dir();
  if (base.find_first_of(",:\\") != std::string::npos)
    return make_error("overlay base `{}`: `,`, `:` and `\\` cannot appear in overlayfs options",
                      base);
  REAPER_TRY(fs::mkdir_p(ns, 0700));
  for (const char* sub : {"/.locks", "/.users", "/.anchors"})
    REAPER_TRY(fs::mkdir_p(ns + sub, 0700));
  REAPER_TRY(fs::mkdir_p(base, 0700));
  auto lock = REAPER_TRY(FileLock::acquire(ns + "/.locks/.setup"));

  if (!REAPER_TRY(kernel::is_mount_point(ns)) &&
      ::mount(ns.c_str(), ns.c_str(), nullptr, MS_BIND, nullptr) < 0)
    return sys_error("bind `{}` onto itself", ns);
  if (::mount(nullptr, ns.c_str(), nullptr, MS_PRIVATE, nullptr) < 0)
    return sys_error("make `{}` a private mount", ns);

  // overlayfs refuses an upper layer inside its lower layer, and the lower
  // layer is the root filesystem: give the base a filesystem of its own
  // (a tmpfs, like the default /run) when it is on the root filesystem.
  struct stat root {
  }, st{};
  if (::stat("/", &root) < 0) return sys_error("stat `/`");
  if (::stat(base.c_str(), &st) < 0) return sys_error("stat `{}`", base);
  if (st.st_dev == root.st_dev &&
      ::mount("reaper-overlay", base.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") < 0)
    return sys_error("mount a tmpfs on the overlay base `{}` (it is on the root filesystem)", base);
  return {};
}

Result<uint64_t> namespace_inode(int nsfd) {
  struct stat st {};
  if (::fstat(nsfd, &st) < 0) return sys_error("stat namespace");
  return static_cast<uint64_t>(st.st_ino);
}

Result<UniqueFd> open_namespace(const GroupPaths& p) {
  UniqueFd fd(::open(p.ns_file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd) {
    auto type = REAPER_TRY_CTX(kernel::fs_type(fd.get()), "`{}`", p.ns_file);
    if (type == kernel::nsfs_magic) {
      int nstype = ::ioctl(fd.get(), ns_get_nstype);
      if (nstype == CLONE_NEWNS || (nstype < 0 && errno == ENOTTY)) return fd;
      return make_error("`{}` is not a mount namespace", p.ns_file);
    }
  } else if (errno != ENOENT) {
    return sys_error("open `{}`", p.ns_file);
  }
  return open_anchor(p);
}

Result<UniqueFd> create_namespace(const NodeConfig& cfg, const GroupPaths& p,
                                  const EnterOptions& opts) {
  REAPER_TRY(make_group_dirs(p));
  // Not REAPER_TRY inside the braces: returning from there would skip the
  // destructors of the members already built (see cgroup::Cgroup::open).
  auto masks = REAPER_TRY(plan_masks(cfg));
  BuildPlan plan{p, view_binds(cfg), cfg.overlay_base_dir(), std::move(masks)};

  auto ready = REAPER_TRY(make_pipe());
  auto go = REAPER_TRY(make_pipe());
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork the namespace helper");
  if (pid == 0) helper_main(plan, parent, ready.write.get(), go.read.get());
  OwnedChild child(pid);
  ready.write.reset();
  go.read.reset();
  REAPER_TRY(read_report(ready.read.get(), child));

  UniqueFd nsfd(::open(fmt::format("/proc/{}/ns/mnt", pid).c_str(), O_RDONLY | O_CLOEXEC));
  if (!nsfd) return sys_error("open the helper's namespace");

  // Persist: bind the namespace onto <ns dir>/<group>.
  bool bound = false;
  if (!opts.force_anchor) {
    UniqueFd f(::open(p.ns_file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!f) return sys_error("create `{}`", p.ns_file);
    f.reset();
    if (::mount(kernel::fd_path(nsfd.get()).c_str(), p.ns_file.c_str(), nullptr, MS_BIND,
                nullptr) == 0) {
      bound = true;
    } else if (errno != EINVAL) {
      return sys_error("persist the namespace: bind it onto `{}`", p.ns_file);
    } else {
      ::unlink(p.ns_file.c_str());
    }
  }
  if (!bound) {
    // Fallback: an anchor process holds the namespace; record which one.
    pid_t anchor = REAPER_TRY_CTX(start_anchor(nsfd.get(), p.group), "persist the namespace");
    uint64_t ino = REAPER_TRY(namespace_inode(nsfd.get()));
    auto [dir, name] = kernel::split_path(p.anchor_file);
    auto dirfd = fs::open_dir(dir);
    Status recorded = dirfd.ok()
                          ? kernel::replace_file_at(dirfd->get(), name,
                                                    fmt::format("{} {}\n", anchor, ino), 0600, 0, 0)
                          : Status(std::move(dirfd).error());
    if (!recorded) {
      ::kill(anchor, SIGKILL);
      return std::move(recorded).error().wrap("record the namespace anchor");
    }
  }
  REAPER_TRY_CTX(fs::write_all(go.write.get(), "X"), "release the namespace helper");
  int status = child.wait();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return make_error("the namespace helper failed after the namespace was persisted");
  return nsfd;
}

Status join_namespace(int nsfd) {
  if (::setns(nsfd, CLONE_NEWNS) < 0) return sys_error("join the mount namespace");
  // setns put root and cwd at the namespace's root; make that explicit the
  // way a chroot does, so that no reference to the host's tree remains.
  UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return sys_error("open the namespace's root");
  if (::fchdir(root.get()) < 0 || ::chroot(".") < 0 || ::chdir("/") < 0)
    return sys_error("chroot to the namespace's root");
  long type = REAPER_TRY(kernel::fs_type("/"));
  if (type != kernel::overlayfs_magic)
    return make_error("the namespace's root is not an overlayfs (type {:#x})", type);
  return {};
}

Status drop_namespace(const GroupPaths& p) {
  for (int i = 0; i < 64; ++i) {
    if (::umount2(p.ns_file.c_str(), MNT_DETACH) == 0) continue;
    if (errno == EINVAL || errno == ENOENT) break;
    return sys_error("unmount `{}`", p.ns_file);
  }
  if (::unlink(p.ns_file.c_str()) < 0 && errno != ENOENT)
    return sys_error("remove `{}`", p.ns_file);

  pid_t pid = 0;
  auto anchor = REAPER_TRY(open_anchor(p, &pid));
  if (anchor) {
    UniqueFd pidfd(sys::pidfd_open(pid));
    // Still the anchor (its namespace was checked after the pidfd's process
    // could no longer change): stop it and wait until it is gone.
    if (pidfd && REAPER_TRY(open_anchor(p))) {
      if (sys::pidfd_send_signal(pidfd.get(), SIGKILL) < 0 && errno != ESRCH)
        return sys_error("kill the namespace anchor {}", pid);
      pollfd pfd{pidfd.get(), POLLIN, 0};
      while (::poll(&pfd, 1, 10000) < 0 && errno == EINTR) {
      }
    }
  }
  if (::unlink(p.anchor_file.c_str()) < 0 && errno != ENOENT)
    return sys_error("remove `{}`", p.anchor_file);
  return {};
}

}  // namespace reaper::overlay
