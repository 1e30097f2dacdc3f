// The kernel work of one `reaper-runtime run`, with no runtime around it:
// the floor under measure 1 (docs/performance.md, "The floor").
//
//   bench-floor --state DIR [--cgroup /PATH] [--mntns FILE]
//               [--image SRC --image-at DIR] -- PROGRAM [ARGS...]
//
// It does, in the order reaper does them, only the system calls a `run`
// cannot do without, and none of reaper's own work (no config.json, no
// records beyond two files, no checks, no error reporting):
//   1. spawns itself again as the monitor (posix_spawn + exec of this static
//      binary), and waits for it;
//   2. the monitor makes the state dir, and with --cgroup a cgroup of that
//      name in each v1 hierarchy reaper manages (cpu, cpuacct, cpuset,
//      memory, pids, freezer: cpuset's cpus and mems copied from the parent);
//   3. makes the directory --image-at and clones the tree of --image (in the
//      host's mount namespace, as reaper does), with --mntns enters that
//      mount namespace (the overlay view), and mounts the clone there on
//      --image-at (move_mount, as reaper shows the image);
//   4. forks the workload, which joins the cgroups and execs PROGRAM; writes
//      state.json meanwhile;
//   5. after the exit: exit.json, the image unmounted, the cgroups and the
//      state removed; exits with the workload's status.
// Any failing step exits 125 with a message: a floor that skipped work
// would measure nothing.
#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern char** environ;

// glibc's <sys/mount.h> has these, musl's not (the kernel's values).
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif

namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench-floor: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(125);
}

void write_file(const std::string& path, const std::string& text, int dir = AT_FDCWD) {
  int fd = ::openat(dir, path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) die("open " + path);
  if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    die("write " + path);
  ::close(fd);
}

std::string read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("open " + path);
  char buf[256];
  ssize_t n = ::read(fd, buf, sizeof buf);
  if (n < 0) die("read " + path);
  ::close(fd);
  return std::string(buf, static_cast<size_t>(n));
}

struct Options {
  std::string state, cgroup, mntns, image, image_at;
  char** program = nullptr;
};

int monitor(const Options& o) {
  // The state dir is used through its fd, as reaper's monitor does: the
  // view need not show it.
  auto slash = o.state.rfind('/');
  std::string parent_path = slash == std::string::npos ? "." : o.state.substr(0, slash + 1);
  std::string name = o.state.substr(slash == std::string::npos ? 0 : slash + 1);
  int parent = ::open(parent_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (parent < 0) die("open " + parent_path);
  if (::mkdirat(parent, name.c_str(), 0700) < 0) die("mkdir " + o.state);
  int state = ::openat(parent, name.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (state < 0) die("open " + o.state);
  std::vector<std::string> cgroups;
  if (!o.cgroup.empty()) {
    for (const char* h : {"cpu", "cpuacct", "cpuset", "memory", "pids", "freezer"}) {
      std::string dir = std::string("/sys/fs/cgroup/") + h + o.cgroup;
      if (::mkdir(dir.c_str(), 0755) < 0) die("mkdir " + dir);
      if (std::string(h) == "cpuset") {
        std::string parent = dir.substr(0, dir.rfind('/'));
        for (const char* f : {"/cpuset.cpus", "/cpuset.mems"})
          write_file(dir + f, read_file(parent + f));
      }
      cgroups.push_back(dir);
    }
  }
  const std::string& target = o.image_at;
  int tree = -1;
  if (!o.image.empty()) {
    if (::mkdir(target.c_str(), 0755) < 0) die("mkdir " + target);
    tree = static_cast<int>(::syscall(SYS_open_tree, AT_FDCWD, o.image.c_str(),
                                      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE));
    if (tree < 0) die("open_tree " + o.image);
  }
  if (!o.mntns.empty()) {
    int ns = ::open(o.mntns.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0) die("open " + o.mntns);
    if (::setns(ns, CLONE_NEWNS) < 0) die("setns " + o.mntns);
    ::close(ns);
  }
  if (tree >= 0) {
    if (::syscall(SYS_move_mount, tree, "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0)
      die("move_mount " + target);
    ::close(tree);
  }
  pid_t pid = ::fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    std::string self = std::to_string(::getpid());
    for (const auto& dir : cgroups) write_file(dir + "/cgroup.procs", self);
    ::execv(o.program[0], o.program);
    die(std::string("exec ") + o.program[0]);
  }
  write_file("state.json", "{\"pid\":" + std::to_string(pid) + "}", state);
  int status = 0;
  if (::waitpid(pid, &status, 0) < 0) die("waitpid");
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  write_file("exit.json", "{\"status\":" + std::to_string(code) + "}", state);
  if (!o.image.empty()) {
    if (::umount2(target.c_str(), MNT_DETACH) < 0) die("umount " + target);
    ::rmdir(target.c_str());
  }
  for (const auto& dir : cgroups)
    if (::rmdir(dir.c_str()) < 0) die("rmdir " + dir);
  ::unlinkat(state, "state.json", 0);
  ::unlinkat(state, "exit.json", 0);
  ::close(state);
  if (::unlinkat(parent, name.c_str(), AT_REMOVEDIR) < 0) die("rmdir " + o.state);
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  bool is_monitor = false;
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a == "--monitor") {
      is_monitor = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "bench-floor: %s needs a value\n", a.c_str());
      return 2;
    }
    std::string v = argv[++i];
    if (a == "--state")
      o.state = v;
    else if (a == "--cgroup")
      o.cgroup = v;
    else if (a == "--mntns")
      o.mntns = v;
    else if (a == "--image")
      o.image = v;
    else if (a == "--image-at")
      o.image_at = v;
    else {
      std::fprintf(stderr, "bench-floor: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if (o.state.empty() || i >= argc || o.image.empty() != o.image_at.empty()) {
    std::fprintf(stderr,
                 "usage: bench-floor --state DIR [--cgroup /PATH] [--mntns FILE] "
                 "[--image SRC --image-at DIR] -- PROGRAM [ARGS...]\n");
    return 2;
  }
  o.program = argv + i;
  if (is_monitor) return monitor(o);

  // The CLI's part: the same command line again, as the monitor.
  std::vector<char*> args(argv, argv + argc);
  std::string flag = "--monitor";
  args.insert(args.begin() + 1, flag.data());
  args.push_back(nullptr);
  pid_t pid = 0;
  if (int err = ::posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, args.data(), environ)) {
    errno = err;
    die("spawn the monitor");
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) < 0) die("waitpid");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
