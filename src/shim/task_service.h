#pragma once
// The containerd task service (containerd.task.v2.Task, and the same methods
// as containerd.task.v3.Task): each handler decodes its request, calls the
// TaskBackend, encodes the answer and publishes the event that follows a
// success. Connect and Shutdown are answered here.

#include <functional>
#include <string_view>

#include "shim/events.h"
#include "shim/log.h"
#include "shim/server.h"
#include "shim/task_backend.h"

namespace reaper::shim {

inline constexpr std::string_view task_service_v2 = "containerd.task.v2.Task";
inline constexpr std::string_view task_service_v3 = "containerd.task.v3.Task";

class TaskService {
 public:
  // `request_exit` is called after Shutdown was answered and no container
  // remains; it should drain the server and leave the loop.
  TaskService(TaskBackend& backend, EventSink& events, const Log& log,
              std::function<void()> request_exit)
      : backend_(backend), events_(events), log_(log), request_exit_(std::move(request_exit)) {}

  // Registers every method under both service names.
  void register_on(Server& server);

 private:
  void connect(const task::ConnectRequest& req, Done<task::ConnectResponse> done);
  void shutdown(const task::ShutdownRequest& req, Done<Empty> done);

  // Events that follow successful calls.
  void created(const task::CreateTaskRequest& req, const task::CreateTaskResponse& resp);
  void started(const task::StartRequest& req, const task::StartResponse& resp);
  void deleted(const task::DeleteRequest& req, const task::DeleteResponse& resp);
  void exec_added(const task::ExecProcessRequest& req, const Empty& resp);

  TaskBackend& backend_;
  EventSink& events_;
  const Log& log_;
  std::function<void()> request_exit_;
};

}  // namespace reaper::shim
