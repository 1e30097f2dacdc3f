#pragma once
// The seam between the ttrpc task service and the runtime core. TaskService
// decodes requests, calls one TaskBackend method, encodes the answer and
// publishes the lifecycle events that follow from a successful call
// (/tasks/create, /tasks/start, /tasks/exec-added, /tasks/exec-started,
// /tasks/delete for init processes). Everything else - exits (/tasks/exit,
// exactly one per process), OOM - the backend publishes itself through the
// EventSink it is given.
//
// Every method answers through a `Done`, exactly once, either before it
// returns or later from another callback of the loop: Wait keeps its Done
// until the process exits; Delete may keep it until the process's output is
// drained. Requests carry the container id (route by it: one shim serves a
// whole pod; unknown -> NotFound) and, where present, the exec id ("" is the
// init process).

#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include "shim.pb.h"
#include "shim/rpc.h"
#include "wkt.pb.h"

namespace reaper::shim {

namespace task = ::containerd::task::v2;
using Empty = ::reaper::pb::Empty;

// A move-only, call-once completion. Dropping it unanswered answers Internal,
// so a forgotten path never leaves containerd waiting.
template <typename T>
class Done {
 public:
  using Fn = std::function<void(RpcResult<T>)>;

  explicit Done(Fn fn) : fn_(std::move(fn)) {}
  Done(const Done&) = delete;
  Done& operator=(const Done&) = delete;
  Done(Done&& other) noexcept : fn_(std::exchange(other.fn_, nullptr)) {}
  Done& operator=(Done&& other) noexcept {
    if (this != &other) {
      drop();
      fn_ = std::exchange(other.fn_, nullptr);
    }
    return *this;
  }
  ~Done() { drop(); }

  void operator()(RpcResult<T> result) {
    if (auto fn = std::exchange(fn_, nullptr)) fn(std::move(result));
  }
  void ok(T value) { (*this)(RpcResult<T>(std::move(value))); }
  void fail(RpcStatus status) { (*this)(RpcResult<T>(std::move(status))); }
  [[nodiscard]] bool pending() const { return static_cast<bool>(fn_); }

 private:
  void drop() {
    if (fn_) (*this)(RpcResult<T>(RpcStatus{Code::internal, "request dropped without an answer"}));
  }
  Fn fn_;
};

class TaskBackend {
 public:
  virtual ~TaskBackend() = default;

  virtual void create(const task::CreateTaskRequest& req, Done<task::CreateTaskResponse> done) = 0;
  virtual void start(const task::StartRequest& req, Done<task::StartResponse> done) = 0;
  virtual void state(const task::StateRequest& req, Done<task::StateResponse> done) = 0;
  // Blocks while the process is created or running; answers at once after
  // it exited (until Delete), also on a fresh connection after a restart.
  virtual void wait(const task::WaitRequest& req, Done<task::WaitResponse> done) = 0;
  // NotFound "process already finished" after exit.
  virtual void kill(const task::KillRequest& req, Done<Empty> done) = 0;
  // The Delete RPC (`delete` is a keyword). An error on a running process.
  virtual void remove(const task::DeleteRequest& req, Done<task::DeleteResponse> done) = 0;
  // Creates without starting; AlreadyExists on a duplicate exec id.
  virtual void exec(const task::ExecProcessRequest& req, Done<Empty> done) = 0;
  virtual void resize_pty(const task::ResizePtyRequest& req, Done<Empty> done) = 0;
  virtual void close_io(const task::CloseIORequest& req, Done<Empty> done) = 0;
  virtual void pids(const task::PidsRequest& req, Done<task::PidsResponse> done) = 0;
  virtual void stats(const task::StatsRequest& req, Done<task::StatsResponse> done) = 0;
  virtual void update(const task::UpdateTaskRequest& req, Done<Empty> done) = 0;
  virtual void pause(const task::PauseRequest& req, Done<Empty> done) = 0;
  virtual void resume(const task::ResumeRequest& req, Done<Empty> done) = 0;
  virtual void checkpoint(const task::CheckpointTaskRequest& req, Done<Empty> done) = 0;

  // For Connect: the pid of the container's init process, 0 when unknown.
  [[nodiscard]] virtual uint32_t task_pid(const std::string& id) const = 0;
  // For Shutdown: the shim exits once this is zero.
  [[nodiscard]] virtual size_t container_count() const = 0;
  // SIGCHLD arrived (the server is a child subreaper): reap what is ours.
  virtual void on_sigchld() = 0;
};

// Answers Unimplemented to everything that needs the runtime core, knows no
// containers and reaps every child. Real backends derive from it and
// override what they implement.
class UnimplementedBackend : public TaskBackend {
 public:
  void create(const task::CreateTaskRequest& req, Done<task::CreateTaskResponse> done) override;
  void start(const task::StartRequest& req, Done<task::StartResponse> done) override;
  void state(const task::StateRequest& req, Done<task::StateResponse> done) override;
  void wait(const task::WaitRequest& req, Done<task::WaitResponse> done) override;
  void kill(const task::KillRequest& req, Done<Empty> done) override;
  void remove(const task::DeleteRequest& req, Done<task::DeleteResponse> done) override;
  void exec(const task::ExecProcessRequest& req, Done<Empty> done) override;
  void resize_pty(const task::ResizePtyRequest& req, Done<Empty> done) override;
  void close_io(const task::CloseIORequest& req, Done<Empty> done) override;
  void pids(const task::PidsRequest& req, Done<task::PidsResponse> done) override;
  void stats(const task::StatsRequest& req, Done<task::StatsResponse> done) override;
  void update(const task::UpdateTaskRequest& req, Done<Empty> done) override;
  void pause(const task::PauseRequest& req, Done<Empty> done) override;
  void resume(const task::ResumeRequest& req, Done<Empty> done) override;
  void checkpoint(const task::CheckpointTaskRequest& req, Done<Empty> done) override;
  [[nodiscard]] uint32_t task_pid(const std::string& id) const override;
  [[nodiscard]] size_t container_count() const override;
  void on_sigchld() override;
};

}  // namespace reaper::shim
