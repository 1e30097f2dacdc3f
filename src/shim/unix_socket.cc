#include "shim/unix_socket.h"

#include <sys/stat.h>

#include <cstring>

namespace reaper::shim {

std::string_view strip_unix_scheme(std::string_view address) {
  constexpr std::string_view scheme = "unix://";
  if (address.starts_with(scheme)) address.remove_prefix(scheme.size());
  return address;
}

Result<UnixAddress> make_unix_address(std::string_view address) {
  std::string_view path = strip_unix_scheme(address);
  if (path.empty()) return make_error("socket address `{}`: empty path", address);
  UnixAddress out;
  out.addr.sun_family = AF_UNIX;
  bool abstract = path.front() == '@';
  // Abstract names are not NUL-terminated; paths need room for the NUL.
  if (path.size() + (abstract ? 0 : 1) > sizeof out.addr.sun_path)
    return make_error("socket address `{}`: longer than {} bytes", address,
                      sizeof out.addr.sun_path - 1);
  std::memcpy(out.addr.sun_path, path.data(), path.size());
  if (abstract) out.addr.sun_path[0] = '\0';
  out.len =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (abstract ? 0 : 1));
  return out;
}

Result<UniqueFd> listen_unix(std::string_view address, int backlog) {
  auto addr = REAPER_TRY(make_unix_address(address));
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return sys_error("socket");
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr.addr), addr.len) < 0)
    return sys_error("bind `{}`", address);
  // Whoever can connect can run anything as root: 0600 whatever the umask
  // (containerd's shims do the same), set before anyone can connect.
  if (addr.addr.sun_path[0] != '\0' && ::chmod(addr.addr.sun_path, 0600) < 0)
    return sys_error("chmod `{}`", address);
  if (::listen(fd.get(), backlog) < 0) return sys_error("listen `{}`", address);
  return fd;
}

Result<PendingConnect> connect_unix_nonblocking(std::string_view address) {
  auto addr = REAPER_TRY(make_unix_address(address));
  PendingConnect out;
  out.fd.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!out.fd) return sys_error("socket");
  if (::connect(out.fd.get(), reinterpret_cast<const sockaddr*>(&addr.addr), addr.len) == 0)
    return out;
  if (errno == EINPROGRESS) {
    out.state = ConnectState::in_progress;
    return out;
  }
  // EAGAIN here means the listener's backlog is full: a failure to retry later.
  return sys_error("connect `{}`", address);
}

Status connect_result(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
    return sys_error("getsockopt(SO_ERROR)");
  if (err != 0) return errno_error(err, "connect");
  return {};
}

Result<UniqueFd> connect_unix(std::string_view address) {
  auto addr = REAPER_TRY(make_unix_address(address));
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return sys_error("socket");
  int rc;
  do {
    rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr.addr), addr.len);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) return sys_error("connect `{}`", address);
  return fd;
}

}  // namespace reaper::shim
