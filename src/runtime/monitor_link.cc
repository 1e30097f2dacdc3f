#include "runtime/monitor_link.h"

#include <poll.h>
#include <sys/wait.h>

#include "common/syscalls.h"
#include "monitor/control.h"
#include "process/proc.h"

namespace reaper::runtime {

monitor::Identity identity_of(const Context& ctx, const std::string& id, const std::string& exec_id,
                              const state::ProcessRecord& r) {
  return monitor::Identity{ctx.store.root(), id, exec_id, r.monitor_pid, r.monitor_start};
}

Result<UniqueFd> recorded_monitor(const monitor::Identity& who) {
  if (who.pid <= 0) return UniqueFd();
  UniqueFd fd(sys::pidfd_open(who.pid));
  if (!fd) return UniqueFd();
  // Checked after opening: if the start time still matches, the pidfd is
  // the recorded process's and cannot be confused with a later one.
  auto st = proc::read_stat(who.pid);
  if (!st.ok() || st->start_time != who.start_time) return UniqueFd();
  if (st->state == 'Z' || st->state == 'X') return fd;  // exited, not yet reaped
  auto checked = monitor::verify(fd.get(), who.pid, who);
  if (!checked.ok() && checked.error().err() != ESRCH)
    return std::move(checked).error().wrap(
        fmt::format("state.json names pid {} as its monitor", who.pid));
  return fd;  // the monitor, alive or exiting
}

Result<bool> monitor_alive(const monitor::Identity& who) {
  if (who.pid <= 0) return false;
  UniqueFd fd(sys::pidfd_open(who.pid));
  if (!fd) return false;
  auto checked = monitor::verify(fd.get(), who.pid, who);
  if (checked.ok()) return true;
  if (checked.error().err() == ESRCH) return false;
  return std::move(checked).error().wrap(
      fmt::format("state.json names pid {} as its monitor", who.pid));
}

Status wait_pidfd(int pidfd) {
  pollfd p{pidfd, POLLIN, 0};
  while (::poll(&p, 1, -1) < 0) {
    if (errno != EINTR) return sys_error("poll pidfd");
  }
  return {};
}

Status end_through_socket(int dirfd, const monitor::Identity& who) {
  auto c = monitor::connect(dirfd, who);
  if (!c.ok()) {
    if (c.error().err() == ESRCH) return {};  // no monitor listens: none runs
    return std::move(c).error();
  }
  // Whatever it answers (it may be finishing already), it ends.
  (void)monitor::send_request(*c, "kill 9 1");
  REAPER_TRY(wait_pidfd(c->pidfd.get()));
  // Reap it if it is our child; harmless otherwise.
  siginfo_t info{};
  ::waitid(static_cast<idtype_t>(3) /* P_PIDFD */, static_cast<id_t>(c->pidfd.get()), &info,
           WEXITED | WNOHANG);
  return {};
}

}  // namespace reaper::runtime
