#include "monitor/child.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <string>

#include "common/fs.h"
#include "common/syscalls.h"
#include "network/network.h"
#include "process/identity.h"

namespace reaper::monitor {

namespace {

[[noreturn]] void fail(int report_fd, int code, const Error& e) {
  std::string msg = fmt::format("E{} {}", code, e.what());
  (void)fs::write_all(report_fd, msg);
  ::_exit(code);
}

// Puts the three stdio fds on 0, 1, 2. The sources are all >= 3 (the monitor
// dup'ed them there), so no dup2 overwrites a source still needed.
Status install_stdio(Stdio& s) {
  int fds[3] = {s.in.get(), s.out.get(), s.err.get()};
  for (int i = 0; i < 3; ++i) {
    if (::dup2(fds[i], i) < 0) return sys_error("dup2 onto fd {}", i);
  }
  return {};
}

void reset_signals() {
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

// `start_fd` < 0: released at once.
[[noreturn]] void child_main(const oci::Process& p, Stdio& stdio, const cgroup::Cgroup& cg,
                             int netns, int preserve_fds, int report_fd, int start_fd,
                             pid_t monitor) {
  // First, while still root and single-threaded (see Cgroup::join_self).
  if (cg.valid()) {
    if (auto st = cg.join_self(); !st) fail(report_fd, 1, st.error().wrap("cgroup"));
  }
  reset_signals();
  if (::setsid() < 0) fail(report_fd, 1, sys_error("setsid"));
  if (p.terminal && ::ioctl(stdio.in.get(), TIOCSCTTY, 0) < 0)
    fail(report_fd, 1, sys_error("make the terminal the controlling terminal"));
  if (auto st = install_stdio(stdio); !st) fail(report_fd, 1, st.error());
  // setns needs CAP_SYS_ADMIN: before the identity drops it.
  if (netns >= 0) {
    if (auto st = network::join(netns); !st) fail(report_fd, 1, st.error());
  }
  if (auto st = process::apply_identity(p); !st) fail(report_fd, 1, st.error());
  // After the uid change (which clears it): die with the monitor, so that a
  // workload is never left running unobserved.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (::getppid() != monitor) ::_exit(1);
  if (fs::write_all(report_fd, "R").ok() == false) ::_exit(1);
  if (start_fd >= 0) {
    char go = 0;
    ssize_t n = 0;
    do {
      n = ::read(start_fd, &go, 1);  // blocks until start (or the monitor goes away)
    } while (n < 0 && errno == EINTR);
    if (n != 1) ::_exit(1);
    ::close(start_fd);
  }
  // Nothing but 0-2, the preserved fds and the report pipe (close-on-exec)
  // survives the exec.
  sys::close_range(3 + static_cast<unsigned>(preserve_fds), ~0U, sys::close_range_cloexec);
  auto failure = process::exec_process(p);
  fail(report_fd, failure.exit_code, failure.error);
}

Result<std::string> read_some(int fd) {
  char buf[4096];
  ssize_t n = 0;
  do {
    n = ::read(fd, buf, sizeof buf);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys_error("read report pipe");
  return std::string(buf, static_cast<size_t>(n));
}

// The child's `E<code> <message>` as an error (the message names the errno).
Error report_error(std::string_view msg) {
  auto space = msg.find(' ');
  return make_error("{}", space == std::string_view::npos ? msg : msg.substr(space + 1));
}

// A child that failed (or died) before it was ready: reaped, and why.
Error setup_failed(pid_t pid, const Result<std::string>& got) {
  ::waitpid(pid, nullptr, 0);  // it has exited or is about to: reap it
  if (!got.ok()) return got.error();
  if (got->starts_with("E")) return report_error(*got);
  return make_error("the workload process exited during setup");
}

}  // namespace

Result<Child> spawn_child(const oci::Process& p, Stdio& stdio, const cgroup::Cgroup& cg, int netns,
                          int preserve_fds, Release release) {
  int report[2];
  if (::pipe2(report, O_CLOEXEC) < 0) return sys_error("pipe");
  UniqueFd report_r(report[0]);
  UniqueFd report_w(report[1]);
  UniqueFd start_r;
  UniqueFd start_w;
  if (release == Release::on_start) {
    int start[2];
    if (::pipe2(start, O_CLOEXEC) < 0) return sys_error("pipe");
    start_r.reset(start[0]);
    start_w.reset(start[1]);
  }

  pid_t monitor = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork");
  if (pid == 0) {
    report_r.reset();
    start_w.reset();
    child_main(p, stdio, cg, netns, preserve_fds, report_w.get(), start_r ? start_r.get() : -1,
               monitor);
  }
  report_w.reset();
  start_r.reset();
  if (release == Release::at_once) return Child{pid, std::move(report_r), {}};

  // Wait for "R" (ready) or a failure message; EOF without either means
  // the child died.
  auto got = read_some(report_r.get());
  if (got.ok() && *got == "R") return Child{pid, std::move(report_r), std::move(start_w)};
  return setup_failed(pid, got);
}

Result<std::optional<Error>> await_exec(Child& child) {
  auto failed = [&](const Result<std::string>& got) {
    Error e = setup_failed(child.pid, got);  // reaps it
    child.pid = 0;
    return e;
  };
  std::string all;
  for (;;) {  // to EOF: the exec closes the pipe, a failure writes and exits
    auto got = read_some(child.report.get());
    if (!got.ok()) return failed(got);
    if (got->empty()) break;
    all += *got;
  }
  child.report.reset();
  if (!all.starts_with("R")) return failed(all);
  std::string_view rest = std::string_view(all).substr(1);
  if (rest.empty()) return std::optional<Error>();
  return std::optional<Error>(report_error(rest));
}

}  // namespace reaper::monitor
