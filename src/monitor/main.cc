#include <fmt/format.h>

#include "personalities.h"

namespace reaper {

int monitor_main(Args args) {
  (void)args;
  fmt::print(stderr, "monitor: not implemented in this build\n");
  return 1;
}

}  // namespace reaper
