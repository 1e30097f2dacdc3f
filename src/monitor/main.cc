#include <fmt/format.h>

#include "monitor/monitor.h"
#include "personalities.h"
#include "version.h"

namespace reaper {

int monitor_main(Args args) {
  // The runtime core starts monitors; by hand only --version makes sense.
  if (args.size() == 2 &&
      (args[1] == std::string_view("--version") || args[1] == std::string_view("-v"))) {
    fmt::print("reaper-monitor version {}\ncommit: {}\nbuilt: {}\nlibc: {}\n", build::version,
               build::commit, build::date, build::libc);
    return 0;
  }
  return monitor::run(args);
}

}  // namespace reaper
