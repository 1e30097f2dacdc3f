#pragma once
// The fds a monitor is started with: 0-2, the preserved range 3 to 3+N-1
// that goes on to the workload (--preserve-fds), and above it the sync pipe
// and, for a container's init process, the socket its cgroup comes on
// (--cgroup-fd). Anything else a caller left open (not close-on-exec) is
// closed.

#include <initializer_list>

#include "common/error.h"

namespace reaper::monitor {

// Every fd of 3 to 3+n-1 is open. The CLI checks before it opens an fd of
// its own, the monitor before it does: a hole in the range would be filled
// by such an fd (the state root, say), which the workload would then get.
Status check_preserved_fds(int n);

// Checks the preserved range, then closes every fd above 2 but that range
// and those in `keep` (-1 in it stands for none), which it makes
// close-on-exec: the workload must not keep them past its exec.
Status close_inherited_fds(int preserve_fds, std::initializer_list<int> keep);

}  // namespace reaper::monitor
