#include "runtime/spawn_monitor.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>

#include "common/spawn.h"
#include "monitor/control.h"

namespace reaper::runtime {

namespace {

constexpr int sync_fd = 3;

// The monitor's report is one line. Read up to its newline, not to EOF: the
// workload child (forked, not yet exec'd) still holds a copy of the pipe.
Result<std::string> read_report(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);  // blocks until the monitor reports or exits
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read from monitor");
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
    if (auto nl = out.find('\n'); nl != std::string::npos) return out.substr(0, nl);
  }
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
  pid_t pid = REAPER_TRY_CTX(
      spawn(SpawnRequest{"/proc/self/exe", std::move(argv), launch.envp, {{wr.get(), sync_fd}}}),
      "reaper-monitor");
  wr.reset();

  auto text = read_report(rd.get());
  if (!text.ok() || text->empty()) {
    ::waitpid(pid, nullptr, 0);
    if (!text.ok()) return std::move(text).error();
    return make_error("reaper-monitor exited before reporting");
  }
  auto reply = monitor::parse_reply(*text);
  if (!reply.ok()) {
    ::waitpid(pid, nullptr, 0);  // a monitor that failed exits right after reporting
    return std::move(reply).error();
  }
  int workload = 0;
  std::from_chars(reply->data(), reply->data() + reply->size(), workload);
  return Launched{pid, workload};
}

}  // namespace reaper::runtime
