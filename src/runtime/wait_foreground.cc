#include "runtime/wait_foreground.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "runtime/monitor_link.h"

namespace reaper::cli {

Result<state::ExitRecord> wait_foreground(const runtime::Context& ctx, const std::string& id,
                                          const std::string& exec_id, UniqueFd monitor,
                                          runtime::ExitReport report) {
  if (!monitor) monitor = REAPER_TRY(runtime::monitor_pidfd(ctx, id, exec_id));
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&set, s);
  sigset_t old;
  ::sigprocmask(SIG_BLOCK, &set, &old);
  UniqueFd sfd(::signalfd(-1, &set, SFD_CLOEXEC));
  // The monitor's last line comes once all has ended, before its own exit.
  const bool reported = report.pending.find('\n') != std::string::npos;
  const int awaited = report.fd ? report.fd.get() : monitor.get();
  if (sfd && monitor && !reported) {
    for (;;) {
      pollfd fds[2] = {{awaited, POLLIN, 0}, {sfd.get(), POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if (fds[0].revents != 0) break;
      signalfd_siginfo si{};
      if (::read(sfd.get(), &si, sizeof si) == sizeof si)
        (void)runtime::kill(ctx, id, exec_id, static_cast<int>(si.ssi_signo), false);
    }
  }
  ::sigprocmask(SIG_SETMASK, &old, nullptr);
  if (!monitor) return runtime::exit_after_monitor(ctx, id, exec_id, std::nullopt);
  if (auto status = runtime::read_exit_report(report)) {
    auto got = runtime::get_state(ctx, id, exec_id);
    // Deleted by the monitor: its exit status is the workload's, and the
    // monitor has nothing left to do but exit (it is reparented then).
    if (!got.ok() && got.error().err() == ENOENT)
      return state::ExitRecord{*status, state::now_ns(), "removed"};
    // Else the state stays for `delete` or the caller: the monitor must be
    // gone first, as without a report.
  }
  REAPER_TRY(runtime::wait_pidfd(monitor.get()));  // at once when it has exited
  // The CLI's run and exec are the monitor's parent: reaped here.
  return runtime::exit_after_monitor(ctx, id, exec_id, runtime::reap_monitor(monitor.get()));
}

}  // namespace reaper::cli
