#include "runtime/spawn_monitor.h"

#include <fcntl.h>
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
  std::vector<std::pair<int, int>> fds;
  for (int fd = 3; fd < sync_fd; ++fd) fds.emplace_back(fd, fd);
  fds.emplace_back(wr.get(), sync_fd);
  pid_t pid = REAPER_TRY_CTX(
      spawn(SpawnRequest{"/proc/self/exe", std::move(argv), launch.envp, std::move(fds)}),
      "reaper-monitor");
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
