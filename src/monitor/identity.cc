#include "monitor/identity.h"

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <string_view>
#include <vector>

#include "common/fs.h"
#include "process/proc.h"
#include "state/id.h"

namespace reaper::monitor {

namespace {

// A process that is exiting has no executable and an empty command line
// for a moment before it becomes a zombie; so has a kernel thread, always.
constexpr int exiting_grace_ms = 1000;
constexpr std::string_view deleted_suffix = " (deleted)";

std::string describe(const Identity& who) {
  // Ids read from a command line may hold anything.
  auto id = state::printable(who.id, 256);
  return who.exec_id.empty() ? fmt::format("container `{}`", id)
                             : fmt::format("exec process `{}` of container `{}`",
                                           state::printable(who.exec_id, 256), id);
}

std::string link_of(const std::string& path) {
  char buf[PATH_MAX];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  if (n <= 0 || static_cast<size_t>(n) >= sizeof buf) return "?";
  return std::string(buf, static_cast<size_t>(n));
}

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// Empty when `pid` runs reaper's executable; otherwise why not.
// `unreadable` is set when there is no executable to look at.
std::string check_executable(pid_t pid, bool& unreadable) {
  std::string theirs = fmt::format("/proc/{}/exe", pid);
  struct stat self {};
  struct stat other {};
  if (::stat("/proc/self/exe", &self) < 0) return "cannot stat our own executable";
  if (::stat(theirs.c_str(), &other) < 0) {
    unreadable = errno == ENOENT;
    return fmt::format("its executable cannot be read ({})", std::strerror(errno));
  }
  if (same_file(self, other)) return {};
  // Upgraded in place: the file it runs was replaced (renamed over).
  std::string mine = link_of("/proc/self/exe");
  std::string its = link_of(theirs);
  if (its.size() > deleted_suffix.size() && its.ends_with(deleted_suffix) &&
      std::string_view(its).substr(0, its.size() - deleted_suffix.size()) == mine)
    return {};
  return fmt::format("it runs `{}`, not reaper (`{}`)", state::printable(its, 256),
                     state::printable(mine, 256));
}

// Empty when the command line is a monitor's for `who`; otherwise why not.
std::string check_command_line(pid_t pid, const Identity& who, bool& unreadable) {
  auto text = fs::read_kernel_file(fmt::format("/proc/{}/cmdline", pid), 1 << 20);
  if (!text.ok()) {
    unreadable = true;
    return fmt::format("its command line cannot be read ({})", text.error().what());
  }
  std::vector<std::string_view> argv;
  std::string_view rest = *text;
  while (!rest.empty()) {
    auto nul = rest.find('\0');
    argv.push_back(rest.substr(0, nul));
    if (nul == std::string_view::npos) break;
    rest.remove_prefix(nul + 1);
  }
  if (argv.empty()) {
    unreadable = true;
    return "it has no command line";
  }
  if (argv[0] != "reaper-monitor")
    return fmt::format("it is `{}`, not a reaper-monitor", state::printable(argv[0], 256));
  std::string_view root;
  std::string_view id;
  std::string_view exec_id;
  for (size_t i = 1; i + 1 < argv.size(); i += 2) {
    if (argv[i] == "--root") root = argv[i + 1];
    if (argv[i] == "--id") id = argv[i + 1];
    if (argv[i] == "--exec-id") exec_id = argv[i + 1];
  }
  Identity its{std::string(root), std::string(id), std::string(exec_id), 0, 0};
  if (id != who.id || exec_id != who.exec_id)
    return fmt::format("it is the monitor of {}", describe(its));
  struct stat a {};
  struct stat b {};
  if (root.empty() || ::stat(std::string(root).c_str(), &a) < 0 ||
      ::stat(who.root.c_str(), &b) < 0 || !same_file(a, b))
    return fmt::format("it is the monitor of {} under the state root `{}`", describe(its),
                       state::printable(root, 256));
  return {};
}

}  // namespace

bool exited_within(int pidfd, int timeout_ms) {
  pollfd p{pidfd, POLLIN, 0};
  int n = 0;
  do {
    n = ::poll(&p, 1, timeout_ms);
  } while (n < 0 && errno == EINTR);
  return n > 0;
}

Status verify(int pidfd, pid_t pid, const Identity& who) {
  auto gone = [&] { return errno_error(ESRCH, "the monitor of {} has exited", describe(who)); };
  if (pid <= 0) return gone();
  auto st = proc::read_stat(pid);
  if (!st.ok() || st->state == 'Z' || st->state == 'X') return gone();
  if (who.pid != 0 && (pid != who.pid || st->start_time != who.start_time)) return gone();
  bool unreadable = false;
  std::string why = check_executable(pid, unreadable);
  if (why.empty()) why = check_command_line(pid, who, unreadable);
  // Only now: what was read above is that process's, not a later one's.
  if (exited_within(pidfd, 0)) return gone();
  if (why.empty()) return {};
  if (unreadable && exited_within(pidfd, exiting_grace_ms)) return gone();
  return errno_error(EPERM, "pid {} is not the monitor of {}: {}", pid, describe(who), why);
}

}  // namespace reaper::monitor
