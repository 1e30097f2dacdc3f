#include "shim/signals.h"

#include <sys/signalfd.h>
#include <unistd.h>

namespace reaper::shim {

Result<SignalFd> SignalFd::create(std::initializer_list<int> signals) {
  sigset_t set, previous;
  sigemptyset(&set);
  for (int sig : signals) sigaddset(&set, sig);
  if (::sigprocmask(SIG_BLOCK, &set, &previous) < 0) return sys_error("sigprocmask");
  UniqueFd fd(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!fd) {
    auto err = sys_error("signalfd");
    ::sigprocmask(SIG_SETMASK, &previous, nullptr);
    return err;
  }
  return SignalFd(std::move(fd), previous);
}

SignalFd::SignalFd(SignalFd&& other) noexcept
    : fd_(std::move(other.fd_)),
      previous_(other.previous_),
      restore_(std::exchange(other.restore_, false)) {}

SignalFd::~SignalFd() {
  if (restore_) ::sigprocmask(SIG_SETMASK, &previous_, nullptr);
}

Result<std::optional<int>> SignalFd::read() {
  signalfd_siginfo info{};
  ssize_t n;
  do {
    n = ::read(fd_.get(), &info, sizeof info);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN) return std::optional<int>();
    return sys_error("read signalfd");
  }
  if (n != sizeof info) return make_error("read signalfd: short read");
  return std::optional<int>(static_cast<int>(info.ssi_signo));
}

}  // namespace reaper::shim
