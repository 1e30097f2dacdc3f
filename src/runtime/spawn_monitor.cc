#include "runtime/spawn_monitor.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>

#include "common/spawn.h"
#include "common/syscalls.h"
#include "monitor/control.h"

namespace reaper::runtime {

namespace {

// The monitor's report is one line, two with --start. Read up to their
// newlines, not to EOF: the workload child (forked, not yet exec'd) still
// holds a copy of the pipe. A monitor that failed reports one line and exits.
// What was read past the `lines`th newline is left in `pending` (with
// --report-exit the last line may already be there).
Result<std::vector<std::string>> read_report(int fd, size_t lines, std::string& pending) {
  char buf[4096];
  while (static_cast<size_t>(std::count(pending.begin(), pending.end(), '\n')) < lines) {
    ssize_t n = ::read(fd, buf, sizeof buf);  // blocks until the monitor reports or exits
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read from monitor");
    if (n == 0) break;
    pending.append(buf, static_cast<size_t>(n));
  }
  std::vector<std::string> got;
  size_t at = 0;
  while (got.size() < lines && at < pending.size()) {
    size_t nl = pending.find('\n', at);
    if (nl == std::string::npos) nl = pending.size();
    got.push_back(pending.substr(at, nl - at));
    at = nl + 1;
  }
  pending.erase(0, std::min(at, pending.size()));
  return got;
}

}  // namespace

Result<Launched> launch_monitor(const MonitorLaunch& launch) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) return sys_error("pipe");
  UniqueFd rd(p[0]);
  UniqueFd wr(p[1]);

  const int sync_fd = 3 + launch.preserve_fds;
  std::vector<std::string> argv{"reaper-monitor"};
  argv.insert(argv.end(), launch.args.begin(), launch.args.end());
  if (launch.preserve_fds > 0) {
    argv.emplace_back("--preserve-fds");
    argv.push_back(std::to_string(launch.preserve_fds));
  }
  argv.emplace_back("--sync-fd");
  argv.push_back(std::to_string(sync_fd));
  if (launch.start) argv.emplace_back("--start");
  if (launch.remove) argv.emplace_back("--remove");
  if (launch.start && launch.report_exit) argv.emplace_back("--report-exit");
  std::vector<std::pair<int, int>> fds;
  for (int fd = 3; fd < sync_fd; ++fd) fds.emplace_back(fd, fd);
  fds.emplace_back(wr.get(), sync_fd);
  UniqueFd ours;    // the cgroup goes out on it
  UniqueFd theirs;  // the monitor's end, at sync_fd + 1
  if (launch.send_cgroup) {
    int sp[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
      return sys_error("socketpair");
    ours.reset(sp[0]);
    theirs.reset(sp[1]);
    fds.emplace_back(theirs.get(), sync_fd + 1);
    argv.emplace_back("--cgroup-fd");
    argv.push_back(std::to_string(sync_fd + 1));
  }
  pid_t pid = REAPER_TRY_CTX(
      spawn(SpawnRequest{"/proc/self/exe", std::move(argv), launch.envp, std::move(fds)}),
      "reaper-monitor");
  wr.reset();
  theirs.reset();

  // While the monitor execs and sets up, on the other CPU if there is one.
  Status sent;
  if (launch.send_cgroup) {
    sent = launch.send_cgroup(ours.get());
    ours.reset();  // without a message the monitor sees the end of the socket
  }

  // The monitor's `ok` means it got the cgroup (it waits for it before it
  // forks); when it failed, a cgroup that could not be made is the cause.
  std::string pending;
  auto lines = read_report(rd.get(), launch.start ? 2 : 1, pending);
  if (!lines.ok() || lines->empty() || (*lines)[0].empty()) {
    ::waitpid(pid, nullptr, 0);
    if (!sent.ok()) return std::move(sent).error();
    if (!lines.ok()) return std::move(lines).error();
    return make_error("reaper-monitor exited before reporting");
  }
  auto reply = monitor::parse_reply((*lines)[0]);
  if (!reply.ok()) {
    ::waitpid(pid, nullptr, 0);  // a monitor that failed exits right after reporting
    if (!sent.ok()) return std::move(sent).error();
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
    if (launch.report_exit) out.report = ExitReport{std::move(rd), std::move(pending)};
  }
  return out;
}

std::optional<int> read_exit_report(ExitReport& report) {
  if (!report.fd) return std::nullopt;
  auto lines = read_report(report.fd.get(), 1, report.pending);
  report.fd.reset();
  if (!lines.ok() || lines->empty() || !(*lines)[0].starts_with("exit ")) return std::nullopt;
  std::string_view text = std::string_view((*lines)[0]).substr(5);
  int status = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), status);
  if (ec != std::errc() || end != text.data() + text.size() || status < 0 || status > 255)
    return std::nullopt;
  return status;
}

}  // namespace reaper::runtime
