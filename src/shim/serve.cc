#include "shim/serve.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include "common/config.h"
#include "common/event_loop.h"
#include "shim/backend_factory.h"
#include "shim/events.h"
#include "shim/log.h"
#include "shim/server.h"
#include "shim/signals.h"
#include "shim/task_service.h"

namespace reaper::shim {

namespace {

constexpr int listen_fd = 3;

// The bundle's `log` FIFO onto stderr. containerd opened its read end before
// starting us; without a reader (or a FIFO) we keep stderr as it is.
void redirect_stderr_to_log_fifo() {
  UniqueFd fifo(::open("log", O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  if (fifo) ::dup2(fifo.get(), 2);
}

// The path the listening socket is bound to, to remove it at exit ("" for
// an abstract or unnamed socket).
std::string bound_path(int fd) {
  sockaddr_un addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) < 0) return {};
  size_t path_len = len - offsetof(sockaddr_un, sun_path);
  if (len <= offsetof(sockaddr_un, sun_path) || addr.sun_path[0] == '\0') return {};
  return std::string(addr.sun_path, strnlen(addr.sun_path, path_len));
}

Result<UniqueFd> take_listener() {
  UniqueFd fd(listen_fd);
  int listening = 0;
  socklen_t len = sizeof listening;
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0) {
    auto err = sys_error("fd {} is not the listening socket (run by `start`)", listen_fd);
    fd.release();
    return err;
  }
  if (!listening) {
    fd.release();
    return make_error("fd {} is a socket that is not listening", listen_fd);
  }
  ::fcntl(fd.get(), F_SETFD, FD_CLOEXEC);  // not for the processes we start
  return fd;
}

// The pipeline of server mode; returns once the loop stopped.
// The node's REAPER_SHIM_LOG, when set, gets every line too. A file that
// cannot be opened is reported on containerd's log; the shim serves anyway.
UniqueFd open_shim_log(Log& log) {
  auto config = load_node_config(environ);
  if (!config.ok() || config->shim_log.empty()) return {};
  UniqueFd fd(::open(config->shim_log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) {
    log.warn("REAPER_SHIM_LOG `{}`: {}", config->shim_log, std::strerror(errno));
    return {};
  }
  log.set_file(fd.get());
  return fd;
}

Status serve(const ShimFlags& flags, Log& log, std::string& socket_path) {
  UniqueFd listener = REAPER_TRY(take_listener());
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) return sys_error("prctl(PR_SET_CHILD_SUBREAPER)");
  ::signal(SIGPIPE, SIG_IGN);
  SignalFd signals = REAPER_TRY(SignalFd::create({SIGTERM, SIGINT, SIGCHLD}));

  EventLoop loop = REAPER_TRY(EventLoop::create());
  auto server = REAPER_TRY(Server::create(loop, std::move(listener), log));

  std::string ttrpc_address = flags.ttrpc_address;
  if (ttrpc_address.empty())
    if (const char* env = std::getenv("TTRPC_ADDRESS")) ttrpc_address = env;
  NullEventSink null_sink;
  std::unique_ptr<EventPublisher> publisher;
  if (!ttrpc_address.empty())
    publisher = REAPER_TRY(EventPublisher::create(loop, ttrpc_address, flags.ns, log));
  EventSink& events = publisher ? static_cast<EventSink&>(*publisher) : null_sink;
  if (!publisher) log.warn("no TTRPC_ADDRESS: task events are not published");

  auto backend = make_task_backend(BackendContext{loop, events, log, flags});

  // Shutdown with no container left: unlink the socket first (a `start`
  // racing with our exit then starts a new shim instead of reusing this
  // one), stop accepting, let the answers go out, then the queued events,
  // then leave the loop. An unreachable containerd gets a few seconds for
  // the events, not the publisher's whole retry budget.
  Timer exit_deadline = REAPER_TRY(Timer::create(loop, [&] {
    log.warn("exiting with {} event(s) unsent", publisher ? publisher->queued() : 0);
    loop.stop();
  }));
  bool exiting = false;
  auto request_exit = [&] {
    if (std::exchange(exiting, true)) return;
    if (auto st = exit_deadline.arm(std::chrono::seconds(3)); !st)
      log.error("{}", st.error().what());
    if (!socket_path.empty()) ::unlink(socket_path.c_str());
    socket_path.clear();  // not again at exit: the path may be a new shim's by then
    server->drain([&] {
      if (publisher)
        publisher->flush([&] { loop.stop(); });
      else
        loop.stop();
    });
  };
  TaskService service(*backend, events, log, request_exit);
  service.register_on(*server);

  auto signal_watch = REAPER_TRY(loop.watch(signals.fd(), EPOLLIN, [&](uint32_t) {
    for (;;) {
      auto sig = signals.read();
      if (!sig.ok()) {
        log.error("{}", sig.error().what());
        return;
      }
      if (!*sig) return;
      if (**sig == SIGCHLD) {
        backend->on_sigchld();
      } else {
        log.info("signal {}: exiting", **sig);
        loop.stop();
      }
    }
  }));

  log.info("serving on `{}` (namespace {}, first container {})", bound_path(listen_fd), flags.ns,
           flags.id);
  return loop.run();
}

}  // namespace

int shim_serve(const ShimFlags& flags) {
  redirect_stderr_to_log_fifo();
  Log log(2, flags.debug);
  UniqueFd log_file = open_shim_log(log);
  std::string socket_path = bound_path(listen_fd);
  Status st = serve(flags, log, socket_path);
  if (!socket_path.empty()) ::unlink(socket_path.c_str());
  if (!st) {
    log.error("shim server: {}", st.error().what());
    return 1;
  }
  return 0;
}

}  // namespace reaper::shim
