#include "shim/bootstrap.h"

#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "bootstrap.pb.h"
#include "common/fs.h"
#include "common/syscalls.h"
#include "runtime/container.h"
#include "shim/events.h"
#include "shim/socket_address.h"
#include "shim/unix_socket.h"
#include "state/id.h"

namespace reaper::shim {

namespace {

constexpr std::string_view personality = "containerd-shim-reaper-v2";

// Reads an fd to EOF. A closed or invalid stdin reads as empty.
Result<std::string> read_to_eof(int fd) {
  std::string out;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EBADF) return out;
      return sys_error("read stdin");
    }
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (16U << 20)) return make_error("read stdin: more than 16 MiB");
  }
}

// The group key from the bundle's config.json; the id when there is none.
Result<std::string> bundle_group(int bundle_fd, const std::string& id) {
  auto text = fs::read_file_at(bundle_fd, "config.json");
  if (!text.ok()) {
    if (text.error().err() == ENOENT) return id;
    return std::move(text).error();
  }
  auto annotations = REAPER_TRY(parse_annotations(*text));
  return group_key(annotations, id);
}

// An exclusive flock on the socket directory for the check-bind-or-reuse
// sequence, so that two concurrent starts for the same group cannot both
// judge a socket stale and remove each other's.
Result<UniqueFd> lock_dir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return sys_error("open `{}`", dir);
  int rc;
  do {
    rc = ::flock(fd.get(), LOCK_EX);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) return sys_error("flock `{}`", dir);
  return fd;
}

struct Listening {
  UniqueFd fd;  // invalid: a live shim already serves the path
};

// Binds `path`, or finds a live shim there, or replaces a stale socket.
Result<Listening> bind_or_reuse(const std::string& path) {
  auto listener = listen_unix(path);
  if (listener.ok()) return Listening{std::move(*listener)};
  if (listener.error().err() != EADDRINUSE) return std::move(listener).error();
  if (connect_unix(path).ok()) return Listening{};
  if (::unlink(path.c_str()) < 0 && errno != ENOENT)
    return sys_error("remove stale socket `{}`", path);
  return Listening{REAPER_TRY(listen_unix(path))};
}

// fork+exec of the server. Everything the child needs is prepared before
// the fork; the child only calls async-signal-safe functions and reports an
// exec failure through a close-on-exec pipe.
Result<pid_t> spawn_server(const ShimFlags& flags, const BootstrapInfo& info,
                           const std::string& self_exe, int listener) {
  std::vector<std::string> args = {std::string(personality), "-namespace", flags.ns, "-id",
                                   flags.id};
  auto add = [&](const char* flag, const std::string& value) {
    if (value.empty()) return;
    args.emplace_back(flag);
    args.push_back(value);
  };
  add("-address", flags.address);
  add("-publish-binary", flags.publish_binary);
  add("-ttrpc-address", info.ttrpc_address);
  if (flags.debug || info.debug) args.emplace_back("-debug");
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!devnull) return sys_error("open `/dev/null`");
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) < 0) return sys_error("pipe2");
  UniqueFd report_read(pipefd[0]), report_write(pipefd[1]);
  sigset_t empty;
  sigemptyset(&empty);

  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork");
  if (pid == 0) {
    // Above every target fd first, so that no dup2 below clobbers a source.
    int src_listen = ::fcntl(listener, F_DUPFD_CLOEXEC, 10);
    int src_null = ::fcntl(devnull.get(), F_DUPFD_CLOEXEC, 10);
    int err = 0;
    if (src_listen < 0 || src_null < 0 || ::dup2(src_null, 0) < 0 || ::dup2(src_null, 1) < 0 ||
        ::dup2(src_null, 2) < 0 || ::dup2(src_listen, 3) < 0 || ::setsid() < 0 ||
        ::sigprocmask(SIG_SETMASK, &empty, nullptr) < 0) {
      err = errno;
    } else {
      sys::close_range(4, ~0U, sys::close_range_cloexec);
      ::execv(self_exe.c_str(), argv.data());
      err = errno;
    }
    [[maybe_unused]] ssize_t n = ::write(report_write.get(), &err, sizeof err);
    ::_exit(127);
  }
  report_write.reset();
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(report_read.get(), &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  if (n == 0) return pid;  // exec succeeded: the pipe closed on exec
  ::waitpid(pid, nullptr, 0);
  if (n == sizeof child_errno)
    return errno_error(child_errno, "start the shim server `{}`", self_exe);
  return make_error("start the shim server `{}`: no report from the child", self_exe);
}

}  // namespace

BootstrapInfo decode_bootstrap(std::string_view input, const ShimFlags& flags,
                               std::string_view env_ttrpc) {
  BootstrapInfo info;
  info.socket_dir = std::string(default_socket_dir);
  info.ttrpc_address = flags.ttrpc_address.empty() ? std::string(env_ttrpc) : flags.ttrpc_address;
  ::containerd::runtime::bootstrap::v1::BootstrapParams params;
  if (input.empty() || !params.ParseFromArray(input.data(), static_cast<int>(input.size())))
    return info;
  if (params.instance_id() != flags.id || params.namespace_() != flags.ns) return info;
  info.bootstrap_params = true;
  if (params.has_socket_dir() && !params.socket_dir().empty())
    info.socket_dir = params.socket_dir();
  if (!params.containerd_ttrpc_address().empty())
    info.ttrpc_address = params.containerd_ttrpc_address();
  info.debug = params.log_level() < 0;
  return info;
}

Result<std::string> shim_start(const ShimFlags& flags, const StartOptions& options) {
  if (flags.id.empty()) return make_error("start: -id is required");
  if (flags.ns.empty()) return make_error("start: -namespace is required");

  // 1. stdin, always to EOF: containerd writes it before waiting for us.
  std::string input = REAPER_TRY(read_to_eof(options.stdin_fd));
  const char* env_ttrpc = std::getenv("TTRPC_ADDRESS");
  BootstrapInfo info = decode_bootstrap(input, flags, env_ttrpc ? env_ttrpc : "");
  if (!options.socket_dir_override.empty()) info.socket_dir = options.socket_dir_override;

  // 2. The group's socket.
  std::string group =
      REAPER_TRY_CTX(bundle_group(options.bundle_fd, flags.id), "start `{}`", flags.id);
  std::string path = socket_path(flags.address, flags.ns, group, info.socket_dir);
  std::string uri = socket_uri(path);

  // 3. Reuse a live shim, or listen and start the server.
  REAPER_TRY(fs::mkdir_p(info.socket_dir, 0711));
  {
    UniqueFd lock = REAPER_TRY(lock_dir(info.socket_dir));
    Listening listening = REAPER_TRY_CTX(bind_or_reuse(path), "start `{}`", flags.id);
    if (listening.fd) {
      auto pid = spawn_server(flags, info, options.self_exe, listening.fd.get());
      if (!pid.ok()) {
        ::unlink(path.c_str());
        return std::move(pid).error();
      }
      // As runc's shim: the server's pid beside the address, for operators.
      REAPER_TRY_CTX(
          fs::write_file_atomic_at(options.bundle_fd, "shim.pid", std::to_string(*pid), 0644),
          "write `shim.pid`");
    }
  }

  // 4. The address file, also when reusing (1.6/1.7 reconnect from it).
  REAPER_TRY_CTX(fs::write_file_atomic_at(options.bundle_fd, "address", uri, 0644),
                 "write `address`");
  return uri;
}

Result<::containerd::task::v2::DeleteResponse> shim_delete(const ShimFlags& flags,
                                                           const char* const* envp) {
  ::containerd::task::v2::DeleteResponse response;
  response.set_exit_status(128 + SIGKILL);
  *response.mutable_exited_at() = timestamp_now();
  REAPER_TRY(state::validate_id(flags.id));
  auto ctx = REAPER_TRY(runtime::make_context(envp));
  auto st = runtime::get_state(ctx, flags.id);
  if (!st.ok()) {
    if (st.error().err() == ENOENT) return response;  // already deleted: nothing to end
    // Records that cannot be read or trusted: a forced remove still finds
    // the monitor through its socket and ends it; the exit is unknown.
    REAPER_TRY_CTX(runtime::remove(ctx, flags.id, true), "{}", st.error().what());
    return response;
  }
  // Execs first, then the init process, each waited for through its
  // monitor's pidfd (no polling); what already exited is left as recorded.
  for (const auto& exec_id : REAPER_TRY(runtime::exec_ids(ctx, flags.id))) {
    (void)runtime::kill(ctx, flags.id, exec_id, SIGKILL, true);
    (void)runtime::wait(ctx, flags.id, exec_id);
  }
  if (st->status != runtime::ProcessStatus::stopped) {
    REAPER_TRY(runtime::kill(ctx, flags.id, {}, SIGKILL, true));
    if (!st->record.sandbox) (void)REAPER_TRY(runtime::wait(ctx, flags.id));
    st = REAPER_TRY(runtime::get_state(ctx, flags.id));
  }
  response.set_pid(static_cast<uint32_t>(st->record.pid));
  if (st->exit) {
    response.set_exit_status(static_cast<uint32_t>(st->exit->status));
    *response.mutable_exited_at() = timestamp_from_ns(st->exit->exited_ns);
  }
  REAPER_TRY(runtime::remove(ctx, flags.id, true));
  return response;
}

}  // namespace reaper::shim
