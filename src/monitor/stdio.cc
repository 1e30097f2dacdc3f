#include "monitor/stdio.h"

#include <fcntl.h>
#include <pty.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <termios.h>

#include "common/fd_passing.h"

namespace reaper::monitor {

namespace {

enum class Kind { fifo, file, null };

// A stdio path, looked at through an O_PATH handle (which opens nothing).
// The stream is then opened from that very inode through /proc/self/fd, so
// the path cannot be swapped for a device between the check and the open:
// stdio paths live under /run, which root workloads see.
struct Target {
  Kind kind = Kind::null;
  UniqueFd handle;  // invalid for Kind::null
};

Result<Target> classify(const std::string& path) {
  if (path.empty() || path == "/dev/null") return Target{};
  UniqueFd handle(::open(path.c_str(), O_PATH | O_CLOEXEC));
  if (!handle) return sys_error("stat `{}`", path);
  struct stat st {};
  if (::fstat(handle.get(), &st) < 0) return sys_error("stat `{}`", path);
  if (S_ISFIFO(st.st_mode)) return Target{Kind::fifo, std::move(handle)};
  if (S_ISREG(st.st_mode)) return Target{Kind::file, std::move(handle)};
  // /dev/null under another name (a symlink to it, a bind mount of it).
  if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3)) return Target{};
  return make_error("`{}` is neither a FIFO, a regular file nor /dev/null", path);
}

Status clear_nonblock(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) return sys_error("fcntl");
  return {};
}

Result<UniqueFd> open_path(const std::string& path, int flags) {
  UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC));
  if (!fd) return sys_error("open `{}`", path);
  return fd;
}

// Opens what `t` checked (`path` names it in messages).
Result<UniqueFd> open_target(const Target& t, const std::string& path, int flags) {
  if (t.kind == Kind::null) return open_path("/dev/null", flags);
  UniqueFd fd(::open(fmt::format("/proc/self/fd/{}", t.handle.get()).c_str(), flags | O_CLOEXEC));
  if (!fd) return sys_error("open `{}`", path);
  return fd;
}

// An input stream: returns the workload's read end, and the hold for FIFOs.
Status open_input(const std::string& path, UniqueFd& in, UniqueFd& hold) {
  auto t = REAPER_TRY(classify(path));
  switch (t.kind) {
    case Kind::null:
    case Kind::file:
      in = REAPER_TRY(open_target(t, path, O_RDONLY));
      return {};
    case Kind::fifo:
      in = REAPER_TRY(open_target(t, path, O_RDONLY | O_NONBLOCK));    // never blocks for a reader
      hold = REAPER_TRY(open_target(t, path, O_WRONLY | O_NONBLOCK));  // succeeds: we are a reader
      return clear_nonblock(in.get());
  }
  return {};
}

Status open_output(const std::string& path, UniqueFd& out, UniqueFd& hold) {
  auto t = REAPER_TRY(classify(path));
  switch (t.kind) {
    case Kind::null:
      out = REAPER_TRY(open_target(t, path, O_WRONLY));
      return {};
    case Kind::file:
      out = REAPER_TRY(open_target(t, path, O_WRONLY | O_APPEND));
      return {};
    case Kind::fifo:
      hold = REAPER_TRY(open_target(t, path, O_RDONLY | O_NONBLOCK));
      out = REAPER_TRY(open_target(t, path, O_WRONLY | O_NONBLOCK));
      return clear_nonblock(out.get());
  }
  return {};
}

Result<UniqueFd> dup_fd(int fd) {
  UniqueFd copy(::fcntl(fd, F_DUPFD_CLOEXEC, 3));
  if (!copy) return sys_error("dup fd {}", fd);
  return copy;
}

Status send_fd(const std::string& socket_path, int fd, std::string_view name) {
  UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) return sys_error("socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path)
    return make_error("console socket path `{}` is too long", socket_path);
  socket_path.copy(addr.sun_path, socket_path.size());
  if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
    return sys_error("connect to console socket `{}`", socket_path);
  const int fds[] = {fd};
  if (auto st = send_with_fds(sock.get(), name, fds); !st)
    return std::move(st).error().wrap(
        fmt::format("send terminal to console socket `{}`", socket_path));
  return {};
}

Status setup_terminal(const Options& o, const oci::Process& p, Stdio& s) {
  int master = -1;
  int slave = -1;
  winsize ws{};
  if (p.console_size) {
    ws.ws_row = static_cast<unsigned short>(p.console_size->height);
    ws.ws_col = static_cast<unsigned short>(p.console_size->width);
  }
  if (::openpty(&master, &slave, nullptr, nullptr, p.console_size ? &ws : nullptr) < 0)
    return sys_error("allocate a terminal");
  UniqueFd m(master);
  UniqueFd sl(slave);
  ::fcntl(master, F_SETFD, FD_CLOEXEC);
  ::fcntl(slave, F_SETFD, FD_CLOEXEC);
  s.in = REAPER_TRY(dup_fd(slave));
  s.out = REAPER_TRY(dup_fd(slave));
  s.err = std::move(sl);
  if (!o.console_socket.empty()) {
    char name[64] = {};
    ::ptsname_r(master, name, sizeof name);
    return send_fd(o.console_socket, master, name);
  }
  // The monitor relays: from the stdin source into the master, and from the
  // master to the stdout destination.
  if (o.have_stdio_paths) {
    if (!o.stdin_path.empty()) {
      UniqueFd in;
      REAPER_TRY(open_input(o.stdin_path, in, s.stdin_hold));
      s.relay_in = std::move(in);
    }
    UniqueFd out;
    REAPER_TRY(open_output(o.stdout_path, out, s.stdout_hold));
    s.relay_out = std::move(out);
  } else {
    s.relay_in = REAPER_TRY(dup_fd(0));
    s.relay_out = REAPER_TRY(dup_fd(1));
  }
  if (s.relay_in) ::fcntl(s.relay_in.get(), F_SETFL, O_NONBLOCK);
  ::fcntl(master, F_SETFL, O_NONBLOCK);
  s.master = std::move(m);
  return {};
}

}  // namespace

Result<Stdio> setup_stdio(const Options& o, const oci::Process& p) {
  Stdio s;
  if (p.terminal) {
    REAPER_TRY_CTX(setup_terminal(o, p, s), "terminal");
    return s;
  }
  if (!o.have_stdio_paths) {
    s.in = REAPER_TRY(dup_fd(0));
    s.out = REAPER_TRY(dup_fd(1));
    s.err = REAPER_TRY(dup_fd(2));
    return s;
  }
  REAPER_TRY_CTX(open_input(o.stdin_path, s.in, s.stdin_hold), "stdin");
  REAPER_TRY_CTX(open_output(o.stdout_path, s.out, s.stdout_hold), "stdout");
  REAPER_TRY_CTX(open_output(o.stderr_path, s.err, s.stderr_hold), "stderr");
  return s;
}

Status detach_own_stdio() {
  UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null) return sys_error("open `/dev/null`");
  for (int fd = 0; fd <= 2; ++fd) {
    if (::dup2(null.get(), fd) < 0) return sys_error("dup2 /dev/null onto {}", fd);
  }
  return {};
}

}  // namespace reaper::monitor
