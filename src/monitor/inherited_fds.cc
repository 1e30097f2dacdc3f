#include "monitor/inherited_fds.h"

#include <fcntl.h>

#include <algorithm>
#include <vector>

#include "common/syscalls.h"

namespace reaper::monitor {

Status check_preserved_fds(int n) {
  for (int fd = 3; fd < 3 + n; ++fd) {
    if (::fcntl(fd, F_GETFD) < 0) return sys_error("--preserve-fds {}: fd {} is not open", n, fd);
  }
  return {};
}

Status close_inherited_fds(int preserve_fds, std::initializer_list<int> keep) {
  REAPER_TRY(check_preserved_fds(preserve_fds));
  unsigned first = 3 + static_cast<unsigned>(preserve_fds);
  std::vector<unsigned> kept;
  for (int fd : keep) {
    if (fd < 0 || static_cast<unsigned>(fd) < first) continue;
    kept.push_back(static_cast<unsigned>(fd));
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);  // the monitor's, not the workload's
  }
  std::sort(kept.begin(), kept.end());
  for (unsigned fd : kept) {  // the gap below each kept fd
    if (fd > first && sys::close_range(first, fd - 1, 0) < 0)
      return sys_error("close inherited fds");
    first = std::max(first, fd + 1);
  }
  if (sys::close_range(first, ~0U, 0) < 0) return sys_error("close inherited fds");
  return {};
}

}  // namespace reaper::monitor
