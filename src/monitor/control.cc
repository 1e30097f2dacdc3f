#include "monitor/control.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <charconv>

#include "common/fs.h"
#include "common/syscalls.h"
#include "state/record.h"
#include "state/store.h"

namespace reaper::monitor {

namespace {

Result<sockaddr_un> address_at(int dirfd) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  auto path = fmt::format("/proc/self/fd/{}/{}", dirfd, socket_name);
  if (path.size() >= sizeof addr.sun_path) return make_error("socket path `{}` too long", path);
  path.copy(addr.sun_path, path.size());
  return addr;
}

// The socket file itself, never what a symlink in its place points to:
// connect() would follow one (to another container's monitor, or to any
// socket of the host), and the state directory is writable by root
// workloads through the view's /run. The O_PATH handle opens nothing; the
// connection goes through /proc/self/fd/<handle>, the very inode checked.
Result<UniqueFd> open_socket_file(int dirfd) {
  UniqueFd handle(::openat(dirfd, socket_name, O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!handle) {
    if (errno == ENOENT) return errno_error(ESRCH, "the process's monitor is not running");
    return sys_error("open `{}`", fs::path_at(dirfd, socket_name));
  }
  struct stat st {};
  if (::fstat(handle.get(), &st) < 0) return sys_error("stat `{}`", socket_name);
  if (S_ISLNK(st.st_mode))  // O_PATH | O_NOFOLLOW gives the link itself
    return make_error("`{}` is a symbolic link: not following it", fs::path_at(dirfd, socket_name));
  if (!S_ISSOCK(st.st_mode))
    return make_error("`{}` is not a socket", fs::path_at(dirfd, socket_name));
  return handle;
}

}  // namespace

Result<Connection> connect(int dirfd, const Identity& who) {
  auto handle = REAPER_TRY(open_socket_file(dirfd));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  fmt::format_to_n(addr.sun_path, sizeof addr.sun_path - 1, "/proc/self/fd/{}", handle.get());
  Connection c;
  c.fd = UniqueFd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!c.fd) return sys_error("socket");
  if (::connect(c.fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    if (errno == ENOENT || errno == ECONNREFUSED)
      return errno_error(ESRCH, "the process's monitor is not running");
    return sys_error("connect to monitor");
  }
  ucred peer{};
  socklen_t len = sizeof peer;
  if (::getsockopt(c.fd.get(), SOL_SOCKET, SO_PEERCRED, &peer, &len) < 0)
    return sys_error("peer of `{}`", fs::path_at(dirfd, socket_name));
  std::string where = fs::path_at(dirfd, socket_name);
  if (peer.pid <= 0)
    return errno_error(EPERM, "`{}` is served from outside our pid namespace: refusing it", where);
  if (who.pid != 0 && peer.pid != who.pid)
    return errno_error(EPERM,
                       "`{}` is served by pid {}, not by the monitor its record names (pid {}): "
                       "refusing it",
                       where, peer.pid, who.pid);
  c.pid = peer.pid;
  c.pidfd = UniqueFd(sys::pidfd_open(c.pid));
  if (!c.pidfd) return errno_error(ESRCH, "the process's monitor is not running");
  REAPER_TRY_CTX(verify(c.pidfd.get(), c.pid, who), "`{}`", where);
  return c;
}

Result<std::string> send_request(const Connection& c, std::string_view message) {
  if (::send(c.fd.get(), message.data(), message.size(), MSG_NOSIGNAL) < 0)
    return sys_error("send `{}` to monitor", message);
  char buf[max_message];
  ssize_t n = 0;
  do {
    n = ::recv(c.fd.get(), buf, sizeof buf, 0);  // blocks until the monitor answers
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys_error("read reply of monitor");
  if (n == 0) return errno_error(ESRCH, "monitor exited without replying to `{}`", message);
  return parse_reply(std::string_view(buf, static_cast<size_t>(n)));
}

Result<std::string> request(int dirfd, const Identity& who, std::string_view message) {
  auto c = REAPER_TRY(connect(dirfd, who));
  return send_request(c, message);
}

Status kill_exec_processes(int container_dir, const std::string& root, const std::string& id) {
  auto ids = REAPER_TRY(state::exec_ids_at(container_dir));
  if (ids.empty()) return {};
  // One component at a time: O_NOFOLLOW covers only the last one.
  auto exec_dir = REAPER_TRY(fs::open_dir_at(container_dir, "exec"));
  for (const auto& exec_id : ids) {
    auto sub = fs::open_dir_at(exec_dir.get(), exec_id);
    if (!sub.ok()) continue;  // ended and removed meanwhile
    Identity who{root, id, exec_id, 0, 0};
    if (auto text = fs::read_file_at(sub->get(), "state.json"); text.ok()) {
      if (auto rec = state::parse_process_record(*text, "state.json"); rec.ok()) {
        who.pid = rec->monitor_pid;
        who.start_time = rec->monitor_start;
      }
    }
    (void)request(sub->get(), who, "kill 9 1");
  }
  return {};
}

Result<UniqueFd> listen_at(int dirfd) {
  auto addr = REAPER_TRY(address_at(dirfd));
  UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return sys_error("socket");
  ::unlinkat(dirfd, socket_name, 0);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
    return sys_error("bind `{}`", socket_name);
  if (::listen(fd.get(), 64) < 0) return sys_error("listen on `{}`", socket_name);
  return fd;
}

std::string ok_reply(std::string_view data) {
  return data.empty() ? std::string("ok") : fmt::format("ok {}", data);
}

std::string err_reply(const Error& e) {
  return fmt::format("err {} {}", e.err(), e.message());
}

Result<std::string> parse_reply(std::string_view reply) {
  if (reply == "ok") return std::string();
  if (reply.starts_with("ok ")) return std::string(reply.substr(3));
  if (reply.starts_with("err ")) {
    reply.remove_prefix(4);
    int err = 0;
    auto [p, ec] = std::from_chars(reply.data(), reply.data() + reply.size(), err);
    std::string_view msg = reply.substr(static_cast<size_t>(p - reply.data()));
    if (!msg.empty() && msg[0] == ' ') msg.remove_prefix(1);
    if (ec != std::errc()) err = 0;
    return Error(err, std::string(msg));
  }
  return make_error("unexpected reply from monitor: `{}`", reply.substr(0, 80));
}

}  // namespace reaper::monitor
