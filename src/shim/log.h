#pragma once
// The shim's log: one line per message in logfmt, the format containerd's
// Go shims write, on an fd (stderr, which the server dups from the bundle's
// `log` FIFO; containerd copies it into its own log), and to the node's
// REAPER_SHIM_LOG file when there is one (set_file). Writes never block: a
// full FIFO drops the line rather than stalling the event loop.

#include <string_view>

#include <fmt/format.h>

namespace reaper::shim {

class Log {
 public:
  explicit Log(int fd = 2, bool debug = false) : fd_(fd), debug_(debug) {}

  template <typename... Args>
  void debug(fmt::format_string<Args...> f, Args&&... args) const {
    if (debug_) write("debug", fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void info(fmt::format_string<Args...> f, Args&&... args) const {
    write("info", fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void warn(fmt::format_string<Args...> f, Args&&... args) const {
    write("warning", fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void error(fmt::format_string<Args...> f, Args&&... args) const {
    write("error", fmt::format(f, std::forward<Args>(args)...));
  }

  [[nodiscard]] bool debug_enabled() const { return debug_; }
  void set_debug(bool on) { debug_ = on; }
  void set_fd(int fd) { fd_ = fd; }
  // Each line also goes to `fd` (a file opened for appending; not owned),
  // with this shim's pid, since every shim of the node appends there.
  void set_file(int fd) { file_fd_ = fd; }

 private:
  void write(std::string_view level, std::string_view message) const;

  int fd_;
  bool debug_;
  int file_fd_ = -1;
};

}  // namespace reaper::shim
