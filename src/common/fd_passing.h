#pragma once
// One message with file descriptors attached (SCM_RIGHTS) on a Unix socket:
// the terminal sent to a --console-socket, a container's cgroup handed from
// the runtime core to its monitor (cgroup/handover.h).

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/fd.h"

namespace reaper {

// The most fds one message carries (the kernel's own limit, SCM_MAX_FD, is 253).
inline constexpr size_t max_passed_fds = 64;

// Sends `data` (not empty) with `fds` in one sendmsg; never raises SIGPIPE.
Status send_with_fds(int sock, std::string_view data, std::span<const int> fds);

struct Received {
  std::string data;           // empty: the peer closed its end without sending
  std::vector<UniqueFd> fds;  // close-on-exec
};

// Receives one message from a SOCK_SEQPACKET or SOCK_DGRAM socket, blocking
// until it comes or the peer closes. A message longer than `max_data`, or with
// more than max_passed_fds fds, is refused (the fds that did arrive are closed).
Result<Received> receive_with_fds(int sock, size_t max_data);

}  // namespace reaper
