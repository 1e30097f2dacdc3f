#include "common/error.h"

#include <cstring>

namespace reaper {

Error Error::wrap(std::string_view context) const& {
  return Error(errno_, fmt::format("{}: {}", context, message_));
}

Error Error::wrap(std::string_view context) && {
  message_.insert(0, fmt::format("{}: ", context));
  return std::move(*this);
}

std::string Error::what() const {
  if (errno_ == 0) return message_;
  return fmt::format("{}: {}", message_, std::strerror(errno_));
}

}  // namespace reaper
