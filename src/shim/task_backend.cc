#include "shim/task_backend.h"

#include <sys/wait.h>

namespace reaper::shim {

namespace {

RpcStatus not_wired(std::string_view method, const std::string& id) {
  return rpc_error(Code::unimplemented, "{} `{}`: not implemented in this build of the reaper shim",
                   method, id);
}

}  // namespace

void UnimplementedBackend::create(const task::CreateTaskRequest& req,
                                  Done<task::CreateTaskResponse> done) {
  done.fail(not_wired("create", req.id()));
}
void UnimplementedBackend::start(const task::StartRequest& req, Done<task::StartResponse> done) {
  done.fail(not_wired("start", req.id()));
}
void UnimplementedBackend::state(const task::StateRequest& req, Done<task::StateResponse> done) {
  done.fail(not_wired("state", req.id()));
}
void UnimplementedBackend::wait(const task::WaitRequest& req, Done<task::WaitResponse> done) {
  done.fail(not_wired("wait", req.id()));
}
void UnimplementedBackend::kill(const task::KillRequest& req, Done<Empty> done) {
  done.fail(not_wired("kill", req.id()));
}
void UnimplementedBackend::remove(const task::DeleteRequest& req, Done<task::DeleteResponse> done) {
  done.fail(not_wired("delete", req.id()));
}
void UnimplementedBackend::exec(const task::ExecProcessRequest& req, Done<Empty> done) {
  done.fail(not_wired("exec", req.id()));
}
void UnimplementedBackend::resize_pty(const task::ResizePtyRequest& req, Done<Empty> done) {
  done.fail(not_wired("resize pty", req.id()));
}
void UnimplementedBackend::close_io(const task::CloseIORequest& req, Done<Empty> done) {
  done.fail(not_wired("close io", req.id()));
}
void UnimplementedBackend::pids(const task::PidsRequest& req, Done<task::PidsResponse> done) {
  done.fail(not_wired("pids", req.id()));
}
void UnimplementedBackend::stats(const task::StatsRequest& req, Done<task::StatsResponse> done) {
  done.fail(not_wired("stats", req.id()));
}
void UnimplementedBackend::update(const task::UpdateTaskRequest& req, Done<Empty> done) {
  done.fail(not_wired("update", req.id()));
}
void UnimplementedBackend::pause(const task::PauseRequest& req, Done<Empty> done) {
  done.fail(
      rpc_error(Code::unimplemented, "pause `{}`: not supported by the reaper runtime", req.id()));
}
void UnimplementedBackend::resume(const task::ResumeRequest& req, Done<Empty> done) {
  done.fail(
      rpc_error(Code::unimplemented, "resume `{}`: not supported by the reaper runtime", req.id()));
}
void UnimplementedBackend::checkpoint(const task::CheckpointTaskRequest& req, Done<Empty> done) {
  done.fail(rpc_error(Code::unimplemented, "checkpoint `{}`: not supported by the reaper runtime",
                      req.id()));
}
uint32_t UnimplementedBackend::task_pid(const std::string&) const {
  return 0;
}
size_t UnimplementedBackend::container_count() const {
  return 0;
}

void UnimplementedBackend::on_sigchld() {
  // No child is anyone's business here: reap them all so none stays a zombie.
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

}  // namespace reaper::shim
