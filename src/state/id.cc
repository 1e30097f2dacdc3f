#include "state/id.h"

namespace reaper::state {

namespace {

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

}  // namespace

// Prints an id safely inside an error message (it may hold anything).
std::string printable(std::string_view id, size_t max_len) {
  std::string out;
  for (char c : id.substr(0, max_len)) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '`')
      out += fmt::format("\\x{:02x}", u);
    else
      out += c;
  }
  if (id.size() > max_len) out += "...";
  return out;
}

Status validate_id(std::string_view id, std::string_view what) {
  constexpr size_t max_len = 256;
  if (id.empty()) return make_error("{} is empty", what);
  if (id.size() > max_len)
    return make_error("{} `{}` is {} characters long (at most {})", what, printable(id), id.size(),
                      max_len);
  if (!is_alnum(id[0]))
    return make_error("{} `{}` must start with a letter or digit", what, printable(id));
  for (char c : id) {
    if (!is_alnum(c) && c != '.' && c != '_' && c != '-')
      return make_error("{} `{}` has a character outside [A-Za-z0-9._-]", what, printable(id));
  }
  return {};
}

}  // namespace reaper::state
