#include "shim/log.h"

#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <string>

namespace reaper::shim {

namespace {

// Quotes a logfmt value: backslash, double quote and control characters escaped.
std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20)
          out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
        else
          out += c;
    }
  }
  out += '"';
  return out;
}

std::string timestamp() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  tm utc{};
  ::gmtime_r(&ts.tv_sec, &utc);
  char buf[40];
  size_t n = ::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
  return fmt::format("{}.{:09}Z", std::string_view(buf, n), ts.tv_nsec);
}

}  // namespace

void Log::write(std::string_view level, std::string_view message) const {
  if (fd_ < 0 && file_fd_ < 0) return;
  std::string line = fmt::format("time=\"{}\" level={} msg={} runtime=io.containerd.reaper.v2",
                                 timestamp(), level, quote(message));
  // One write per line so that lines from several processes do not mix; a
  // short or failed write (full FIFO, no reader) loses the line.
  if (fd_ >= 0) {
    std::string out = line + "\n";
    [[maybe_unused]] ssize_t n = ::write(fd_, out.data(), out.size());
  }
  if (file_fd_ >= 0) {
    std::string out = fmt::format("{} pid={}\n", line, ::getpid());
    [[maybe_unused]] ssize_t n = ::write(file_fd_, out.data(), out.size());
  }
}

}  // namespace reaper::shim
