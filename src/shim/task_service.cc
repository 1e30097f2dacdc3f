#include "shim/task_service.h"

#include <unistd.h>

#include <memory>

#include "task_events.pb.h"
#include "version.h"

namespace reaper::shim {

namespace {

template <typename Req, typename Resp>
using Method = std::function<void(const Req&, Done<Resp>)>;
template <typename Req, typename Resp>
using After = std::function<void(const Req&, const Resp&)>;

// A server Handler around one typed method: decode, call, publish on
// success (`after`), answer.
template <typename Req, typename Resp>
Handler bind(const Log& log, std::string_view name, Method<Req, Resp> method,
             After<Req, Resp> after = {}) {
  return [&log, name, method = std::move(method), after = std::move(after)](
             const CallContext&, std::string_view payload, Reply reply) {
    auto req = std::make_shared<Req>();
    if (!req->ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
      reply.fail(rpc_error(Code::invalid_argument, "{}: unmarshal {}", name, req->GetTypeName()));
      return;
    }
    log.debug("{} id={}", name, req->id());
    auto shared_reply = std::make_shared<Reply>(std::move(reply));
    method(*req, Done<Resp>([&log, name, req, shared_reply, after](RpcResult<Resp> result) {
      if (!result.ok()) {
        log.debug("{} id={}: {}", name, req->id(), result.status().what());
        shared_reply->fail(result.status());
        return;
      }
      if (after) after(*req, result.value());
      shared_reply->ok(result.value());
    }));
  };
}

template <typename Req, typename Resp>
Method<Req, Resp> call(TaskBackend& backend, void (TaskBackend::*fn)(const Req&, Done<Resp>)) {
  return [&backend, fn](const Req& req, Done<Resp> done) { (backend.*fn)(req, std::move(done)); };
}

}  // namespace

void TaskService::register_on(Server& server) {
  using namespace task;
  auto& b = backend_;
  auto after = [this](auto member) {
    return [this, member](const auto& req, const auto& resp) { (this->*member)(req, resp); };
  };
  const std::pair<std::string_view, Handler> methods[] = {
      {"Create", bind<CreateTaskRequest, CreateTaskResponse>(
                     log_, "create", call(b, &TaskBackend::create), after(&TaskService::created))},
      {"Start", bind<StartRequest, StartResponse>(log_, "start", call(b, &TaskBackend::start),
                                                  after(&TaskService::started))},
      {"State", bind<StateRequest, StateResponse>(log_, "state", call(b, &TaskBackend::state))},
      {"Wait", bind<WaitRequest, WaitResponse>(log_, "wait", call(b, &TaskBackend::wait))},
      {"Kill", bind<KillRequest, Empty>(log_, "kill", call(b, &TaskBackend::kill))},
      {"Delete", bind<DeleteRequest, DeleteResponse>(log_, "delete", call(b, &TaskBackend::remove),
                                                     after(&TaskService::deleted))},
      {"Exec", bind<ExecProcessRequest, Empty>(log_, "exec", call(b, &TaskBackend::exec),
                                               after(&TaskService::exec_added))},
      {"ResizePty",
       bind<ResizePtyRequest, Empty>(log_, "resize-pty", call(b, &TaskBackend::resize_pty))},
      {"CloseIO", bind<CloseIORequest, Empty>(log_, "close-io", call(b, &TaskBackend::close_io))},
      {"Pids", bind<PidsRequest, PidsResponse>(log_, "pids", call(b, &TaskBackend::pids))},
      {"Stats", bind<StatsRequest, StatsResponse>(log_, "stats", call(b, &TaskBackend::stats))},
      {"Update", bind<UpdateTaskRequest, Empty>(log_, "update", call(b, &TaskBackend::update))},
      {"Pause", bind<PauseRequest, Empty>(log_, "pause", call(b, &TaskBackend::pause))},
      {"Resume", bind<ResumeRequest, Empty>(log_, "resume", call(b, &TaskBackend::resume))},
      {"Checkpoint",
       bind<CheckpointTaskRequest, Empty>(log_, "checkpoint", call(b, &TaskBackend::checkpoint))},
      {"Connect",
       bind<ConnectRequest, ConnectResponse>(
           log_, "connect", [this](const auto& req, auto done) { connect(req, std::move(done)); })},
      {"Shutdown", bind<ShutdownRequest, Empty>(
                       log_, "shutdown",
                       [this](const auto& req, auto done) { shutdown(req, std::move(done)); })},
  };
  for (const auto& [method, handler] : methods) {
    server.handle(std::string(task_service_v2), std::string(method), handler);
    server.handle(std::string(task_service_v3), std::string(method), handler);
  }
}

void TaskService::connect(const task::ConnectRequest& req, Done<task::ConnectResponse> done) {
  task::ConnectResponse resp;
  resp.set_shim_pid(static_cast<uint32_t>(::getpid()));
  resp.set_task_pid(backend_.task_pid(req.id()));
  resp.set_version(build::version);
  done.ok(std::move(resp));
}

void TaskService::shutdown(const task::ShutdownRequest& req, Done<Empty> done) {
  done.ok(Empty{});  // answer first: the exit follows
  size_t remaining = backend_.container_count();
  if (remaining > 0) {
    log_.debug("shutdown id={}: {} container(s) remain, staying", req.id(), remaining);
    return;
  }
  log_.info("shutdown: no container remains, exiting");
  if (request_exit_) request_exit_();
}

void TaskService::created(const task::CreateTaskRequest& req,
                          const task::CreateTaskResponse& resp) {
  ::containerd::events::TaskCreate event;
  event.set_container_id(req.id());
  event.set_bundle(req.bundle());
  *event.mutable_rootfs() = req.rootfs();
  auto* io = event.mutable_io();
  io->set_stdin_path(req.stdin_path());
  io->set_stdout_path(req.stdout_path());
  io->set_stderr_path(req.stderr_path());
  io->set_terminal(req.terminal());
  event.set_checkpoint(req.checkpoint());
  event.set_pid(resp.pid());
  events_.publish(topic::task_create, event);
}

void TaskService::started(const task::StartRequest& req, const task::StartResponse& resp) {
  if (req.exec_id().empty()) {
    ::containerd::events::TaskStart event;
    event.set_container_id(req.id());
    event.set_pid(resp.pid());
    events_.publish(topic::task_start, event);
    return;
  }
  ::containerd::events::TaskExecStarted event;
  event.set_container_id(req.id());
  event.set_exec_id(req.exec_id());
  event.set_pid(resp.pid());
  events_.publish(topic::task_exec_started, event);
}

void TaskService::deleted(const task::DeleteRequest& req, const task::DeleteResponse& resp) {
  if (!req.exec_id().empty()) return;  // as runc: only the init process's delete is an event
  ::containerd::events::TaskDelete event;
  event.set_container_id(req.id());
  event.set_pid(resp.pid());
  event.set_exit_status(resp.exit_status());
  *event.mutable_exited_at() = resp.exited_at();
  events_.publish(topic::task_delete, event);
}

void TaskService::exec_added(const task::ExecProcessRequest& req, const Empty&) {
  ::containerd::events::TaskExecAdded event;
  event.set_container_id(req.id());
  event.set_exec_id(req.exec_id());
  events_.publish(topic::task_exec_added, event);
}

}  // namespace reaper::shim
