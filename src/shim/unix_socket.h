#pragma once
// Unix stream sockets by address. An address is a filesystem path, with or
// without a `unix://` prefix; `@name` (or `unix://@name`) names a socket in
// the abstract namespace.

#include <sys/socket.h>
#include <sys/un.h>

#include <string>
#include <string_view>

#include "common/error.h"
#include "common/fd.h"

namespace reaper::shim {

// The address without its `unix://` prefix.
std::string_view strip_unix_scheme(std::string_view address);

struct UnixAddress {
  sockaddr_un addr{};
  socklen_t len = 0;
};
Result<UnixAddress> make_unix_address(std::string_view address);

// A bound, listening socket (close-on-exec, blocking); a path socket is
// made 0600 before it listens.
Result<UniqueFd> listen_unix(std::string_view address, int backlog = 128);

enum class ConnectState { connected, in_progress };
struct PendingConnect {
  UniqueFd fd;
  ConnectState state = ConnectState::connected;
};
// Starts a non-blocking connect. `in_progress`: wait for EPOLLOUT, then
// check with connect_result().
Result<PendingConnect> connect_unix_nonblocking(std::string_view address);
Status connect_result(int fd);

// A blocking connect (used by `start` to probe an existing socket).
Result<UniqueFd> connect_unix(std::string_view address);

}  // namespace reaper::shim
