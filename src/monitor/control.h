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
//
// Clients check who answers before sending anything (monitor/identity.h):
// the socket's peer (SO_PEERCRED: the process that listens on it) must be
// the pid the process's record names, when the record is known, and must
// verify as that process's monitor. A socket bound by anything else, or
// another container's monitor socket linked in its place, is refused.

#include <string>
#include <string_view>

#include "common/error.h"
#include "common/fd.h"
#include "monitor/identity.h"

namespace reaper::monitor {

inline constexpr const char* socket_name = "monitor.sock";
inline constexpr size_t max_message = 4096;

// Client side. A checked connection to the monitor of `who`, whose socket is
// in `dirfd`: ESRCH when no monitor listens there (or it has exited), EPERM
// naming the process when the listener is not that monitor.
struct Connection {
  UniqueFd fd;
  pid_t pid = 0;
  UniqueFd pidfd;  // the monitor's: readable once it has exited
};
Result<Connection> connect(int dirfd, const Identity& who);
// One request on a connection; waits for the reply.
Result<std::string> send_request(const Connection& c, std::string_view message);
// connect + send_request.
Result<std::string> request(int dirfd, const Identity& who, std::string_view message);
// Asks the monitor of every exec process with state below `container_dir`
// (<root>/<id>) to kill its process and everything it started; each is
// checked first (identity.h, its record pinning the pid when it can be
// read). Does not wait for them.
Status kill_exec_processes(int container_dir, const std::string& root, const std::string& id);

// Server side.
Result<UniqueFd> listen_at(int dirfd);
std::string ok_reply(std::string_view data = {});
std::string err_reply(const Error& e);
Result<std::string> parse_reply(std::string_view reply);

}  // namespace reaper::monitor
