#include "shim/runtime_backend.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#include "common/syscalls.h"
#include "oci/spec.h"
#include "runc_options.pb.h"
#include "shim/stdio_uri.h"
#include "task_events.pb.h"
#include "task_types.pb.h"

namespace reaper::shim {

namespace {

namespace types = ::containerd::v1::types;

// The exec spec's Any: an OCI Process as JSON.
constexpr std::string_view process_type_url =
    "types.containerd.io/opencontainers/runtime-spec/1/Process";
constexpr std::string_view process_details_type_url = "containerd.runc.v1.ProcessDetails";
// Go's zero time.Time: what runc's shim reports as exited_at of a process
// that has not exited. CRI tests `IsZero()`; the Unix epoch would read as
// "exited in 1970".
constexpr int64_t go_zero_time_seconds = -62135596800;
// How long a Delete waits for a process it had to end (SIGKILL) to be
// reaped by its monitor. Only a process stuck in the kernel takes longer.
constexpr int end_timeout_ms = 10'000;
// How long a Delete waits for a logging program to finish writing the logs
// after the process ended (containerd's own shims allow about as long).
constexpr auto logger_drain_timeout = std::chrono::seconds(12);

reaper::pb::Timestamp go_zero_time() {
  reaper::pb::Timestamp t;
  t.set_seconds(go_zero_time_seconds);
  return t;
}

types::Status to_proto(runtime::ProcessStatus s) {
  switch (s) {
    case runtime::ProcessStatus::created:
      return types::CREATED;
    case runtime::ProcessStatus::running:
      return types::RUNNING;
    case runtime::ProcessStatus::stopped:
      return types::STOPPED;
  }
  return types::UNKNOWN;
}

// Answers `done` with the error of a failed result; true when it did.
template <typename R, typename T>
bool failed(const R& result, Done<T>& done) {
  if (result.ok()) return false;
  done.fail(to_rpc_status(result.error()));
  return true;
}

// True once a pidfd reports its process gone (without blocking).
bool pidfd_ready(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  int n = 0;
  do {
    n = ::poll(&p, 1, timeout_ms);
  } while (n < 0 && errno == EINTR);
  return n > 0;
}

}  // namespace

struct RuntimeBackend::Proc {
  std::string exec_id;
  uint32_t pid = 0;
  UniqueFd pidfd;          // the monitor's; invalid for a sandbox
  pid_t monitor = 0;       // its pid, while pidfd is valid
  EventLoop::Watch watch;  // after pidfd: reset before it closes
  // How the monitor ended, once reaped (we are its parent): the exit when
  // exit.json could not be written.
  std::optional<runtime::MonitorExit> monitor_exit;
  std::optional<state::ExitRecord> exit;
  bool reported = false;  // TaskExit published and Waits answered
  std::vector<Done<task::WaitResponse>> waiters;
  UniqueFd logger;  // pidfd of its binary:// logging program, if any
};

struct RuntimeBackend::Drain {
  UniqueFd pidfd;
  EventLoop::Watch watch;  // after pidfd
  std::optional<Timer> deadline;
  task::DeleteResponse resp;
  Done<task::DeleteResponse> done{nullptr};
};

struct RuntimeBackend::Container {
  std::string id;
  std::string bundle;
  bool sandbox = false;
  cgroup::OomWatch oom;     // the container's cgroup's OOM kills
  EventLoop::Watch oom_fd;  // after oom: reset before its fd closes
  std::unique_ptr<Proc> init;
  std::map<std::string, std::unique_ptr<Proc>> execs;
};

Result<std::unique_ptr<RuntimeBackend>> RuntimeBackend::create(const BackendContext& ctx,
                                                               const char* const* envp) {
  auto rt = REAPER_TRY_CTX(runtime::make_context(envp), "shim");
  return std::unique_ptr<RuntimeBackend>(new RuntimeBackend(ctx, std::move(rt)));
}

RuntimeBackend::RuntimeBackend(const BackendContext& ctx, runtime::Context rt)
    : loop_(ctx.loop), events_(ctx.events), log_(ctx.log), ns_(ctx.flags.ns), rt_(std::move(rt)) {}

RuntimeBackend::~RuntimeBackend() = default;

Result<RuntimeBackend::Container*> RuntimeBackend::find(const std::string& id) {
  auto it = containers_.find(id);
  if (it == containers_.end()) return errno_error(ENOENT, "container `{}` not found", id);
  return it->second.get();
}

Result<RuntimeBackend::Proc*> RuntimeBackend::find(const std::string& id,
                                                   const std::string& exec_id) {
  Container* c = REAPER_TRY(find(id));
  if (exec_id.empty()) return c->init.get();
  auto it = c->execs.find(exec_id);
  if (it == c->execs.end())
    return errno_error(ENOENT, "exec process `{}` of container `{}` not found", exec_id, id);
  return it->second.get();
}

Status RuntimeBackend::watch_monitor(Container& c, Proc& p) {
  p.pidfd = REAPER_TRY(runtime::monitor_pidfd(rt_, c.id, p.exec_id, &p.monitor));
  if (!p.pidfd) {
    // Already gone (it can exit between reporting and here): settle later,
    // from the loop, not inside the caller's RPC.
    loop_.post([this, id = c.id, exec_id = p.exec_id] {
      auto proc = find(id, exec_id);
      if (proc.ok() && !(*proc)->exit) on_exit(*containers_.at(id), **proc);
    });
    return {};
  }
  p.watch =
      REAPER_TRY(loop_.watch(p.pidfd.get(), EPOLLIN, [this, &c, &p](uint32_t) { on_exit(c, p); }));
  return {};
}

void RuntimeBackend::check_oom(Container& c) {
  if (!c.oom.valid() || !pidfd_ready(c.oom.fd(), 0)) return;
  if (!c.oom.consume()) return;
  ::containerd::events::TaskOOM event;
  event.set_container_id(c.id);
  events_.publish(topic::task_oom, event);
  log_.info("{}: OOM kill in its cgroup", c.id);
}

void RuntimeBackend::watch_oom(Container& c) {
  auto watch = runtime::watch_oom(rt_, c.id);
  if (!watch.ok()) {
    // Not fatal: the container runs; only its OOM events are lost.
    log_.warn("{}: no OOM events: {}", c.id, watch.error().what());
    return;
  }
  c.oom = std::move(*watch);
  if (!c.oom.valid()) return;  // no cgroup of its own
  auto fd = loop_.watch(c.oom.fd(), EPOLLIN, [this, &c](uint32_t) { check_oom(c); });
  if (!fd.ok()) {
    log_.warn("{}: no OOM events: {}", c.id, fd.error().what());
    return;
  }
  c.oom_fd = std::move(*fd);
}

void RuntimeBackend::on_exit(Container& c, Proc& p) {
  p.watch.reset();
  // An OOM kill ends the process: its /tasks/oom goes out before the
  // /tasks/exit (CRI then reports the reason OOMKilled).
  check_oom(c);
  if (!p.exit) {
    if (!p.monitor_exit && p.pidfd) p.monitor_exit = runtime::reap_monitor(p.pidfd.get());
    auto exit = runtime::exit_after_monitor(rt_, c.id, p.exec_id, p.monitor_exit);
    if (exit.ok()) {
      p.exit = *exit;
      if (exit->reason == "unrecorded")
        log_.warn("{}/{}: exit.json could not be written; status {} from its monitor", c.id,
                  p.exec_id, exit->status);
    } else {
      // The records are gone or unreadable: still one exit, never none.
      log_.error("{}/{}: no exit record: {}", c.id, p.exec_id, exit.error().what());
      p.exit = state::ExitRecord{255, state::now_ns(), "monitor-lost"};
    }
    // A killed monitor could not end the rest of the container: its cgroup
    // still holds whatever the workload started. End that now, not at Delete.
    if (p.exec_id.empty() && p.exit->reason == "monitor-lost") {
      if (auto released = runtime::release_cgroup(rt_, c.id); !released)
        log_.warn("{}: {}", c.id, released.error().what());
    }
  }
  settle(c);
}

void RuntimeBackend::settle(Container& c) {
  bool execs_done = true;
  for (auto& [exec_id, p] : c.execs) {
    if (p->exit && !p->reported) report(c, *p);
    execs_done = execs_done && p->reported;
  }
  // As runc: the init process's exit goes out after every exec's.
  if (c.init->exit && !c.init->reported && execs_done) report(c, *c.init);
}

void RuntimeBackend::report(Container& c, Proc& p) {
  p.reported = true;
  ::containerd::events::TaskExit event;
  event.set_container_id(c.id);
  event.set_id(p.exec_id.empty() ? c.id : p.exec_id);
  event.set_pid(p.pid);
  event.set_exit_status(static_cast<uint32_t>(p.exit->status));
  *event.mutable_exited_at() = timestamp_from_ns(p.exit->exited_ns);
  events_.publish(topic::task_exit, event);
  log_.debug("exit {}/{}: status {} ({})", c.id, p.exec_id, p.exit->status, p.exit->reason);
  task::WaitResponse resp;
  resp.set_exit_status(event.exit_status());
  *resp.mutable_exited_at() = event.exited_at();
  for (auto& w : std::exchange(p.waiters, {})) w.ok(resp);
}

void RuntimeBackend::end_now(Container& c, Proc& p) {
  if (p.exit) return;
  if (auto st = runtime::kill(rt_, c.id, p.exec_id, SIGKILL, true); !st)
    log_.debug("{}/{}: {}", c.id, p.exec_id, st.error().what());
  if (p.pidfd && !pidfd_ready(p.pidfd.get(), end_timeout_ms))
    log_.error("{}/{}: still running {} s after SIGKILL", c.id, p.exec_id, end_timeout_ms / 1000);
  on_exit(c, p);
}

void RuntimeBackend::create(const task::CreateTaskRequest& req,
                            Done<task::CreateTaskResponse> done) {
  if (containers_.count(req.id()) != 0) {
    done.fail(rpc_error(Code::already_exists, "container `{}` already exists", req.id()));
    return;
  }
  if (!req.checkpoint().empty() || !req.parent_checkpoint().empty()) {
    done.fail(
        rpc_error(Code::unimplemented, "create `{}`: checkpoints are not supported", req.id()));
    return;
  }
  auto stdio = PreparedStdio::prepare(
      {req.stdin_path(), req.stdout_path(), req.stderr_path(), req.id(), ns_, req.bundle()});
  if (!stdio.ok()) {
    done.fail(to_rpc_status(stdio.error().wrap(fmt::format("create `{}`", req.id()))));
    return;
  }
  runtime::CreateRequest cr{req.id(), req.bundle(), stdio->spec(), {}, ns_, {}};
  // The image's snapshot: mounted on the bundle's rootfs, shown read-only
  // to the workload as $REAPER_IMAGE_ROOT (runtime/rootfs.h).
  for (const auto& m : req.rootfs())
    cr.rootfs.push_back(
        {m.type(), m.source(), m.target(), {m.options().begin(), m.options().end()}});
  auto pid = runtime::create(rt_, cr);
  if (!pid.ok()) {
    stdio->abandon();
    done.fail(to_rpc_status(pid.error()));
    return;
  }
  auto st = runtime::get_state(rt_, req.id());
  auto c = std::make_unique<Container>();
  c->id = req.id();
  c->bundle = req.bundle();
  c->sandbox = st.ok() && st->record.sandbox;
  c->init = std::make_unique<Proc>();
  c->init->pid = static_cast<uint32_t>(*pid);
  if (stdio->logger() > 0) c->init->logger = UniqueFd(sys::pidfd_open(stdio->logger()));
  Container& ref = *c;
  containers_.emplace(req.id(), std::move(c));
  if (!ref.sandbox) {
    watch_oom(ref);
    if (auto w = watch_monitor(ref, *ref.init); !w) {
      log_.error("create {}: {}", req.id(), w.error().what());
      end_now(ref, *ref.init);
      (void)runtime::remove(rt_, req.id(), true);
      containers_.erase(req.id());
      done.fail(to_rpc_status(w.error()));
      return;
    }
  }
  task::CreateTaskResponse resp;
  resp.set_pid(ref.init->pid);
  done.ok(resp);
}

void RuntimeBackend::start(const task::StartRequest& req, Done<task::StartResponse> done) {
  auto p = find(req.id(), req.exec_id());
  if (failed(p, done)) return;
  if (failed(runtime::start(rt_, req.id(), req.exec_id()), done)) return;
  task::StartResponse resp;
  resp.set_pid((*p)->pid);
  done.ok(resp);
}

void RuntimeBackend::state(const task::StateRequest& req, Done<task::StateResponse> done) {
  auto p = find(req.id(), req.exec_id());
  if (failed(p, done)) return;
  auto st = runtime::get_state(rt_, req.id(), req.exec_id());
  if (failed(st, done)) return;
  const auto& r = st->record;
  task::StateResponse resp;
  resp.set_id(req.id());
  resp.set_exec_id(req.exec_id());
  resp.set_bundle(r.bundle);
  resp.set_pid((*p)->pid);
  resp.set_status(to_proto(st->status));
  resp.set_stdin_path(r.stdin_path);
  resp.set_stdout_path(r.stdout_path);
  resp.set_stderr_path(r.stderr_path);
  resp.set_terminal(r.terminal);
  // The exit this shim took (and reported) wins: it may have come from the
  // monitor's exit status when exit.json could not be written.
  const auto& exit = (*p)->exit ? (*p)->exit : st->exit;
  if (exit) {
    resp.set_status(types::STOPPED);
    resp.set_exit_status(static_cast<uint32_t>(exit->status));
    *resp.mutable_exited_at() = timestamp_from_ns(exit->exited_ns);
  } else {
    *resp.mutable_exited_at() = go_zero_time();
  }
  done.ok(resp);
}

void RuntimeBackend::wait(const task::WaitRequest& req, Done<task::WaitResponse> done) {
  auto p = find(req.id(), req.exec_id());
  if (failed(p, done)) return;
  Proc& proc = **p;
  if (proc.reported) {
    task::WaitResponse resp;
    resp.set_exit_status(static_cast<uint32_t>(proc.exit->status));
    *resp.mutable_exited_at() = timestamp_from_ns(proc.exit->exited_ns);
    done.ok(resp);
    return;
  }
  proc.waiters.push_back(std::move(done));  // answered by report()
}

void RuntimeBackend::kill(const task::KillRequest& req, Done<Empty> done) {
  auto c = find(req.id());
  auto p = find(req.id(), req.exec_id());
  if (failed(p, done)) return;
  if ((*p)->exit) {
    done.fail(rpc_error(Code::not_found, "{}: process already finished",
                        req.exec_id().empty() ? req.id() : req.exec_id()));
    return;
  }
  if (req.signal() > 64) {
    done.fail(rpc_error(Code::invalid_argument, "kill `{}`: signal {} is out of range (1-64)",
                        req.id(), req.signal()));
    return;
  }
  if (auto st =
          runtime::kill(rt_, req.id(), req.exec_id(), static_cast<int>(req.signal()), req.all());
      !st) {
    done.fail(to_rpc_status(st.error()));
    return;
  }
  // A sandbox has no monitor to report its end: it ended if the signal
  // would end a pause process.
  if ((*c)->sandbox && req.exec_id().empty()) {
    auto st = runtime::get_state(rt_, req.id());
    if (st.ok() && st->exit) on_exit(**c, **p);
  }
  done.ok(Empty{});
}

void RuntimeBackend::remove(const task::DeleteRequest& req, Done<task::DeleteResponse> done) {
  auto c = find(req.id());
  auto p = find(req.id(), req.exec_id());
  if (failed(p, done)) return;
  Container& cont = **c;
  Proc& proc = **p;
  auto st = runtime::get_state(rt_, req.id(), req.exec_id());
  if (st.ok() && st->status == runtime::ProcessStatus::running && !proc.exit) {
    // The monitor may have exited a moment ago without the loop having seen
    // it yet: look at its pidfd before refusing.
    if (proc.pidfd && pidfd_ready(proc.pidfd.get(), 0)) {
      on_exit(cont, proc);
    } else {
      done.fail(rpc_error(Code::failed_precondition, "delete {}: the process is running",
                          req.exec_id().empty() ? req.id() : req.exec_id()));
      return;
    }
  }
  // Created and never started, or just exited: end and take every exit now,
  // so that each TaskExit goes out before the TaskDelete.
  end_now(cont, proc);
  if (req.exec_id().empty()) {
    for (auto& [exec_id, e] : cont.execs) end_now(cont, *e);
    settle(cont);
  }
  task::DeleteResponse resp;
  resp.set_pid(proc.pid);
  resp.set_exit_status(static_cast<uint32_t>(proc.exit->status));
  *resp.mutable_exited_at() = timestamp_from_ns(proc.exit->exited_ns);
  Status removed = req.exec_id().empty() ? runtime::remove(rt_, req.id(), true)
                                         : runtime::remove_exec(rt_, req.id(), req.exec_id());
  if (!removed) log_.error("delete {}: {}", req.id(), removed.error().what());
  answer_after_logger(proc, std::move(resp), std::move(done));
  if (req.exec_id().empty())
    containers_.erase(req.id());
  else
    cont.execs.erase(req.exec_id());
}

void RuntimeBackend::answer_after_logger(Proc& p, task::DeleteResponse resp,
                                         Done<task::DeleteResponse> done) {
  if (!p.logger || pidfd_ready(p.logger.get(), 0)) {
    done.ok(resp);
    return;
  }
  uint64_t key = ++next_drain_;
  auto drain = std::make_unique<Drain>();
  drain->pidfd = std::move(p.logger);
  drain->resp = std::move(resp);
  drain->done = std::move(done);
  // Answers and forgets the drain; from the loop, not inside a callback of
  // the watch or timer being destroyed.
  auto finish = [this, key](bool timed_out) {
    loop_.post([this, key, timed_out] {
      auto it = drains_.find(key);
      if (it == drains_.end()) return;
      if (timed_out) log_.warn("delete: logging program still running; logs may be incomplete");
      it->second->done.ok(it->second->resp);
      drains_.erase(it);
    });
  };
  auto watch = loop_.watch(drain->pidfd.get(), EPOLLIN, [finish](uint32_t) { finish(false); });
  auto timer = Timer::create(loop_, [finish] { finish(true); });
  if (!watch.ok() || !timer.ok() || !timer->arm(logger_drain_timeout)) {
    drain->done.ok(drain->resp);  // cannot wait: answer now rather than never
    return;
  }
  drain->watch = std::move(*watch);
  drain->deadline = std::move(*timer);
  drains_.emplace(key, std::move(drain));
}

void RuntimeBackend::exec(const task::ExecProcessRequest& req, Done<Empty> done) {
  auto c = find(req.id());
  if (failed(c, done)) return;
  Container& cont = **c;
  if (req.exec_id().empty()) {
    done.fail(rpc_error(Code::invalid_argument, "exec in `{}`: an exec id is required", req.id()));
    return;
  }
  if (cont.execs.count(req.exec_id()) != 0) {
    done.fail(rpc_error(Code::already_exists, "exec process `{}` already exists in `{}`",
                        req.exec_id(), req.id()));
    return;
  }
  const auto& any = req.spec();
  if (!any.type_url().empty() &&
      any.type_url().find("runtime-spec/1/Process") == std::string::npos) {
    done.fail(rpc_error(Code::invalid_argument, "exec `{}`: spec type `{}`, expected {}",
                        req.exec_id(), any.type_url(), process_type_url));
    return;
  }
  auto stdio = PreparedStdio::prepare(
      {req.stdin_path(), req.stdout_path(), req.stderr_path(), req.id(), ns_, cont.bundle});
  if (!stdio.ok()) {
    done.fail(to_rpc_status(stdio.error().wrap(fmt::format("exec `{}`", req.exec_id()))));
    return;
  }
  auto pid = runtime::create_exec(rt_, req.id(), req.exec_id(), any.value(), stdio->spec());
  if (!pid.ok()) {
    stdio->abandon();
    done.fail(to_rpc_status(pid.error()));
    return;
  }
  auto proc = std::make_unique<Proc>();
  proc->exec_id = req.exec_id();
  proc->pid = static_cast<uint32_t>(*pid);
  if (stdio->logger() > 0) proc->logger = UniqueFd(sys::pidfd_open(stdio->logger()));
  Proc& ref = *proc;
  cont.execs.emplace(req.exec_id(), std::move(proc));
  if (auto w = watch_monitor(cont, ref); !w) {
    end_now(cont, ref);
    (void)runtime::remove_exec(rt_, req.id(), req.exec_id());
    cont.execs.erase(req.exec_id());
    done.fail(to_rpc_status(w.error()));
    return;
  }
  done.ok(Empty{});
}

void RuntimeBackend::resize_pty(const task::ResizePtyRequest& req, Done<Empty> done) {
  auto p = find(req.id(), req.exec_id());
  if (failed(p, done)) return;
  if (failed(runtime::resize(rt_, req.id(), req.exec_id(), req.width(), req.height()), done))
    return;
  done.ok(Empty{});
}

void RuntimeBackend::close_io(const task::CloseIORequest& req, Done<Empty> done) {
  auto p = find(req.id(), req.exec_id());
  if (failed(p, done)) return;
  if (req.close_stdin() && !(*p)->exit) {
    if (failed(runtime::close_stdin(rt_, req.id(), req.exec_id()), done)) return;
  }
  done.ok(Empty{});
}

void RuntimeBackend::pids(const task::PidsRequest& req, Done<task::PidsResponse> done) {
  if (failed(find(req.id()), done)) return;
  auto list = runtime::pids(rt_, req.id());
  if (failed(list, done)) return;
  task::PidsResponse resp;
  for (const auto& info : *list) {
    auto* p = resp.add_processes();
    p->set_pid(static_cast<uint32_t>(info.pid));
    if (info.exec_id.empty()) continue;
    ::containerd::runc::v1::ProcessDetails details;
    details.set_exec_id(info.exec_id);
    p->mutable_info()->set_type_url(std::string(process_details_type_url));
    p->mutable_info()->set_value(details.SerializeAsString());
  }
  done.ok(resp);
}

void RuntimeBackend::stats(const task::StatsRequest& req, Done<task::StatsResponse> done) {
  if (failed(find(req.id()), done)) return;
  auto metrics = runtime::stats(rt_, req.id());
  if (failed(metrics, done)) return;
  task::StatsResponse resp;
  resp.mutable_stats()->set_type_url(metrics->type_url);
  resp.mutable_stats()->set_value(std::move(metrics->value));
  done.ok(resp);
}

void RuntimeBackend::update(const task::UpdateTaskRequest& req, Done<Empty> done) {
  if (failed(find(req.id()), done)) return;
  // The Any holds OCI LinuxResources as JSON (CRI's UpdateContainerResources).
  if (failed(runtime::update(rt_, req.id(), req.resources().value()), done)) return;
  done.ok(Empty{});
}

// Monitors are our children: their exit status is kept (it carries the
// workload's when exit.json could not be written), every other child is
// reaped. Looked at before it is reaped (WNOWAIT), one at a time, so a
// monitor's status is never lost to the catch-all.
void RuntimeBackend::on_sigchld() {
  for (;;) {
    siginfo_t info{};
    if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) < 0 || info.si_pid == 0) return;
    Proc* proc = nullptr;
    for (auto& [id, c] : containers_) {
      if (c->init && c->init->pidfd && c->init->monitor == info.si_pid) proc = c->init.get();
      for (auto& [exec_id, e] : c->execs)
        if (e->pidfd && e->monitor == info.si_pid) proc = e.get();
    }
    std::optional<runtime::MonitorExit> got;
    if (proc != nullptr && !proc->monitor_exit) got = runtime::reap_monitor(proc->pidfd.get());
    if (got)
      proc->monitor_exit = got;
    else
      ::waitpid(info.si_pid, nullptr, WNOHANG);
  }
}

uint32_t RuntimeBackend::task_pid(const std::string& id) const {
  auto it = containers_.find(id);
  return it == containers_.end() ? 0 : it->second->init->pid;
}

}  // namespace reaper::shim
