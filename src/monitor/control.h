#pragma once
// The control channel of a monitor: a SOCK_SEQPACKET unix socket
// `monitor.sock` in the process's state directory. One request per
// connection, one reply:
//
//   start                  release the workload; replies once exec succeeded or failed
//   kill <signal> <0|1>    signal the workload (1: and every descendant)
//   resize <cols> <rows>   TIOCSWINSZ on the terminal
//   close-stdin            drop the monitor's hold on the stdin FIFO
//
// Replies: "ok[ data]" or "err <errno> <message>". The socket is reached
// through /proc/self/fd (so that long container ids never hit the 108-byte
// limit of sun_path): the monitor binds /proc/self/fd/<dirfd>/monitor.sock,
// a client connects to /proc/self/fd/<handle> of an O_PATH|O_NOFOLLOW handle
// on the socket file, so a symlink planted in its place is never followed.

#include <string>
#include <string_view>

#include "common/error.h"
#include "common/fd.h"

namespace reaper::monitor {

inline constexpr const char* socket_name = "monitor.sock";
inline constexpr size_t max_message = 4096;

// Client side: one request, waits for the reply. ESRCH when no monitor answers.
Result<std::string> request(int dirfd, std::string_view message);

// Server side.
Result<UniqueFd> listen_at(int dirfd);
std::string ok_reply(std::string_view data = {});
std::string err_reply(const Error& e);
Result<std::string> parse_reply(std::string_view reply);

}  // namespace reaper::monitor
