#include <fmt/format.h>

#include "personalities.h"

namespace reaper {

int shim_main(Args args) {
  (void)args;
  fmt::print(stderr, "shim: not implemented in this build\n");
  return 1;
}

}  // namespace reaper
