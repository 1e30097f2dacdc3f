#pragma once
// Signals as an fd: the given signals are blocked for the life of the
// object (and the previous mask restored after), and arrive as readable
// events on a signalfd in the event loop.
//
// Blocked signals and ignored dispositions are inherited through fork and
// exec: whoever starts a child from the server must reset the signal mask
// and SIGPIPE's disposition in the child before exec.

#include <signal.h>

#include <initializer_list>
#include <optional>

#include "common/error.h"
#include "common/fd.h"

namespace reaper::shim {

class SignalFd {
 public:
  static Result<SignalFd> create(std::initializer_list<int> signals);
  SignalFd(SignalFd&& other) noexcept;
  SignalFd& operator=(SignalFd&&) = delete;
  SignalFd(const SignalFd&) = delete;
  ~SignalFd();

  [[nodiscard]] int fd() const { return fd_.get(); }
  // The next pending signal, or nothing when none is pending.
  Result<std::optional<int>> read();

 private:
  SignalFd(UniqueFd fd, sigset_t previous) : fd_(std::move(fd)), previous_(previous) {}
  UniqueFd fd_;
  sigset_t previous_;
  bool restore_ = true;
};

}  // namespace reaper::shim
