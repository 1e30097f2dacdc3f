#include "monitor/inherited_fds.h"

#include <fcntl.h>

#include "common/syscalls.h"

namespace reaper::monitor {

Status check_preserved_fds(int n) {
  for (int fd = 3; fd < 3 + n; ++fd) {
    if (::fcntl(fd, F_GETFD) < 0) return sys_error("--preserve-fds {}: fd {} is not open", n, fd);
  }
  return {};
}

Status close_inherited_fds(int preserve_fds, int sync_fd) {
  REAPER_TRY(check_preserved_fds(preserve_fds));
  unsigned first = 3 + static_cast<unsigned>(preserve_fds);
  auto sync = static_cast<unsigned>(sync_fd);
  if (sync > first && sys::close_range(first, sync - 1, 0) < 0)
    return sys_error("close inherited fds");
  if (sys::close_range(sync + 1, ~0U, 0) < 0) return sys_error("close inherited fds");
  return {};
}

}  // namespace reaper::monitor
