#include "runtime/spawn_monitor.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>

#include "monitor/control.h"

namespace reaper::runtime {

namespace {

constexpr int sync_fd = 3;

class SpawnAttrs {
 public:
  SpawnAttrs() {
    posix_spawnattr_init(&attr_);
    posix_spawn_file_actions_init(&actions_);
  }
  ~SpawnAttrs() {
    posix_spawnattr_destroy(&attr_);
    posix_spawn_file_actions_destroy(&actions_);
  }
  SpawnAttrs(const SpawnAttrs&) = delete;
  SpawnAttrs& operator=(const SpawnAttrs&) = delete;
  posix_spawnattr_t attr_{};
  posix_spawn_file_actions_t actions_{};
};

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

  SpawnAttrs sa;
  // Default dispositions and an empty mask: the caller (the shim) ignores
  // SIGPIPE and blocks signals for its signalfd; none of that is inherited.
  sigset_t all;
  sigfillset(&all);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&sa.attr_, &all);
  posix_spawnattr_setsigmask(&sa.attr_, &none);
  posix_spawnattr_setflags(&sa.attr_, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  posix_spawn_file_actions_adddup2(&sa.actions_, wr.get(), sync_fd);

  std::vector<std::string> argv_store{"reaper-monitor"};
  argv_store.insert(argv_store.end(), launch.args.begin(), launch.args.end());
  argv_store.emplace_back("--sync-fd");
  argv_store.push_back(std::to_string(sync_fd));
  std::vector<char*> argv;
  for (auto& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);

  char* empty_env[] = {nullptr};
  char* const* envp = launch.envp != nullptr ? const_cast<char* const*>(launch.envp) : empty_env;

  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, "/proc/self/exe", &sa.actions_, &sa.attr_, argv.data(), envp);
  if (rc != 0) return errno_error(rc, "start reaper-monitor");
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
