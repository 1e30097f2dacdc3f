#pragma once
// The task backend of the real shim: every RPC is a call into the runtime
// core (runtime/container.h), in-process. The shim keeps only what the
// protocol needs on top of the state store:
//
//  - a pidfd on each process's monitor in the event loop: it becomes
//    readable when the monitor exits, which is after it wrote exit.json;
//  - the parked Waits of each process, answered with that record;
//  - the order of TaskExit events: exactly one per process, and a
//    container's init process only after its exec processes.
//
// Calls that touch a monitor (create, start, kill, ...) are short
// synchronous exchanges on its control socket (milliseconds); only Wait is
// long-lived, and it is parked, never blocking the loop.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/event_loop.h"
#include "runtime/container.h"
#include "shim/backend_factory.h"
#include "shim/task_backend.h"

namespace reaper::shim {

class RuntimeBackend final : public UnimplementedBackend {
 public:
  static Result<std::unique_ptr<RuntimeBackend>> create(const BackendContext& ctx,
                                                        const char* const* envp);
  ~RuntimeBackend() override;
  RuntimeBackend(const RuntimeBackend&) = delete;
  RuntimeBackend& operator=(const RuntimeBackend&) = delete;

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
  [[nodiscard]] uint32_t task_pid(const std::string& id) const override;
  [[nodiscard]] size_t container_count() const override { return containers_.size(); }
  void on_sigchld() override;

  struct Proc;
  struct Container;
  struct Drain;

 private:
  RuntimeBackend(const BackendContext& ctx, runtime::Context rt);

  Result<Container*> find(const std::string& id);
  Result<Proc*> find(const std::string& id, const std::string& exec_id);
  // Puts the monitor's pidfd of a new process in the loop.
  Status watch_monitor(Container& c, Proc& p);
  // Registers the container's OOM watch in the loop (none without a cgroup).
  void watch_oom(Container& c);
  // Publishes /tasks/oom when the watch reports a new OOM kill.
  void check_oom(Container& c);
  // The monitor of `p` exited (or the sandbox ended): take its exit record.
  void on_exit(Container& c, Proc& p);
  // Publishes the exits that may go out now, in order, and answers Waits.
  void settle(Container& c);
  void report(Container& c, Proc& p);
  // Ends a process that must not outlive a Delete (created, never started;
  // an exec left when its container goes) and takes its exit at once.
  void end_now(Container& c, Proc& p);
  // Answers a Delete once the process's logging program (binary:// URI)
  // has exited, so the logs are complete; at once when there is none.
  void answer_after_logger(Proc& p, task::DeleteResponse resp, Done<task::DeleteResponse> done);

  EventLoop& loop_;
  EventSink& events_;
  const Log& log_;
  std::string ns_;
  runtime::Context rt_;
  std::map<std::string, std::unique_ptr<Container>> containers_;
  std::map<uint64_t, std::unique_ptr<Drain>> drains_;
  uint64_t next_drain_ = 0;
};

}  // namespace reaper::shim
