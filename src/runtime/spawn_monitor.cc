#include "runtime/spawn_monitor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "common/spawn.h"
#include "common/syscalls.h"
#include "monitor/control.h"

namespace reaper::runtime {

namespace {

constexpr int sync_fd = 3;

// The monitor's report is one line, two with --start. Read up to their
// newlines, not to EOF: the workload child (forked, not yet exec'd) still
// holds a copy of the pipe. A monitor that failed reports one line and exits.
Result<std::vector<std::string>> read_report(int fd, size_t lines) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);  // blocks until the monitor reports or exits
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read from monitor");
    out.append(buf, static_cast<size_t>(n));
    if (n == 0 || static_cast<size_t>(std::count(out.begin(), out.end(), '\n')) >= lines) break;
  }
  std::vector<std::string> got;
  for (size_t at = 0; at < out.size();) {
    size_t nl = out.find('\n', at);
    if (nl == std::string::npos) nl = out.size();
    got.push_back(out.substr(at, nl - at));
    at = nl + 1;
  }
  return got;
}

// Points this process's command line (/proc/self/cmdline, what `ps` and the
// identity check read) at a copy of `argv`, in a mapping it keeps for life.
bool set_command_line(const std::vector<std::string>& argv) {
  size_t len = 0;
  for (const auto& a : argv) len += a.size() + 1;
  void* mem = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return false;
  char* at = static_cast<char*>(mem);
  for (const auto& a : argv) {
    std::copy(a.begin(), a.end(), at);
    at += a.size();
    *at++ = '\0';
  }
  // The start first: the kernel keeps start <= end at each step, and the
  // mapping lies below the stack, where the old arguments are.
  auto start = reinterpret_cast<unsigned long>(mem);
  return ::prctl(PR_SET_MM, PR_SET_MM_ARG_START, start, 0, 0) == 0 &&
         ::prctl(PR_SET_MM, PR_SET_MM_ARG_END, start + len, 0, 0) == 0;
}

// The forked child: becomes the monitor `argv` describes, as the spawned
// one would be (fds 0-2 and the sync pipe on fd 3 only, default signals),
// and exits with its status. Never returns into the caller.
[[noreturn]] void become_monitor(const std::vector<std::string>& argv, int sync,
                                 const MonitorLaunch& launch) {
  int placed = sync == sync_fd ? ::fcntl(sync, F_SETFD, 0) : ::dup2(sync, sync_fd);
  if (placed < 0) ::_exit(127);
  // The caller's other fds (lock holders, state dirs, the pipe's read end)
  // are close-on-exec by convention; without an exec they are closed here.
  if (sys::close_range(sync_fd + 1, ~0U, 0) < 0) ::_exit(127);
  for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);  // EINVAL for KILL/STOP/internal
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  std::vector<std::string> store = argv;
  std::vector<char*> cargv;
  for (auto& a : store) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  if (set_command_line(argv)) {
    ::prctl(PR_SET_NAME, "reaper-monitor", 0, 0, 0);
    // noexcept: an exception ends the monitor (std::terminate), as in an
    // exec'd one; it never unwinds into the caller's frames.
    auto run = [&]() noexcept {
      return monitor::run(Args(cargv.data(), cargv.size() - 1), launch.envp, *launch.in_place);
    };
    int status = run();
    std::fflush(nullptr);
    ::_exit(status);
  }
  ::execve("/proc/self/exe", cargv.data(), const_cast<char* const*>(launch.envp));
  ::_exit(127);
}

// posix_spawn or fork, as `launch` says; the child has `wr` on fd 3.
Result<pid_t> start_monitor(const std::vector<std::string>& argv, const MonitorLaunch& launch,
                            int wr) {
  if (launch.in_place == nullptr)
    return spawn(SpawnRequest{"/proc/self/exe", argv, launch.envp, {{wr, sync_fd}}});
  std::fflush(nullptr);  // nothing buffered is written twice
  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork");
  if (pid == 0) become_monitor(argv, wr, launch);
  return pid;
}

}  // namespace

Result<Launched> launch_monitor(const MonitorLaunch& launch) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) return sys_error("pipe");
  UniqueFd rd(p[0]);
  UniqueFd wr(p[1]);

  std::vector<std::string> argv{"reaper-monitor"};
  argv.insert(argv.end(), launch.args.begin(), launch.args.end());
  argv.emplace_back("--sync-fd");
  argv.push_back(std::to_string(sync_fd));
  if (launch.start) argv.emplace_back("--start");
  if (launch.remove) argv.emplace_back("--remove");
  pid_t pid = REAPER_TRY_CTX(start_monitor(argv, launch, wr.get()), "reaper-monitor");
  wr.reset();

  auto lines = read_report(rd.get(), launch.start ? 2 : 1);
  if (!lines.ok() || lines->empty() || (*lines)[0].empty()) {
    ::waitpid(pid, nullptr, 0);
    if (!lines.ok()) return std::move(lines).error();
    return make_error("reaper-monitor exited before reporting");
  }
  auto reply = monitor::parse_reply((*lines)[0]);
  if (!reply.ok()) {
    ::waitpid(pid, nullptr, 0);  // a monitor that failed exits right after reporting
    return std::move(reply).error();
  }
  Launched out;
  std::from_chars(reply->data(), reply->data() + reply->size(), out.workload);
  // Our unreaped child: the pid cannot have been reused.
  out.monitor_fd = UniqueFd(sys::pidfd_open(pid));
  if (launch.start) {
    if (lines->size() < 2) {
      out.exec = make_error("reaper-monitor exited before reporting the exec's result");
    } else if (auto started = monitor::parse_reply((*lines)[1]); !started.ok()) {
      out.exec = std::move(started).error();
    }
  }
  return out;
}

}  // namespace reaper::runtime
