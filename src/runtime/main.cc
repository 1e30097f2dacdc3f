#include <fmt/format.h>

#include "personalities.h"

namespace reaper {

int runtime_main(Args args) {
  (void)args;
  fmt::print(stderr, "runtime: not implemented in this build\n");
  return 1;
}

}  // namespace reaper
