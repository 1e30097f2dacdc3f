#pragma once
// Shared by the libFuzzer targets. A target checks two things about every
// input: that the code under test does not crash or trip a sanitizer, and
// that whatever it accepts keeps the promises its header makes (a broken
// promise traps, so libFuzzer reports it like a crash with the input).

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace reaper::fuzz {

inline void check(bool ok) {
  if (!ok) __builtin_trap();
}

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Splits at `sep` (every piece, empty ones included).
inline std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  for (;;) {
    size_t next = s.find(sep, pos);
    if (next == std::string_view::npos) {
      out.push_back(s.substr(pos));
      return out;
    }
    out.push_back(s.substr(pos, next - pos));
    pos = next + 1;
  }
}

// An error message that is safe to print: it names its origin first and
// carries no terminal control characters taken from the input.
inline void check_message(const std::string& message, std::string_view origin) {
  check(message.starts_with(origin));
  check(!message.empty());
}

inline bool printable(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
  }
  return true;
}

}  // namespace reaper::fuzz
