#include "monitor/monitor.h"
#include "personalities.h"

namespace reaper {

int monitor_main(Args args) {
  return monitor::run(args);
}

}  // namespace reaper
