#pragma once
// Task events to containerd. The task service and the runtime backend
// publish through an EventSink; in the server it is an EventPublisher that
// forwards each event over ttrpc (containerd.services.events.ttrpc.v1.Events
// /Forward on TTRPC_ADDRESS) from an ordered queue: one call in flight, the
// next only after the previous one was answered, so /tasks/start always
// reaches containerd before the /tasks/exit of the same process. A failed or
// timed-out call is retried with a growing delay on a fresh connection; an
// event containerd refuses with an error status is dropped (retrying would
// not help). Nothing here blocks the loop.

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <google/protobuf/message_lite.h>

#include "common/error.h"
#include "common/event_loop.h"
#include "shim/client.h"
#include "shim/log.h"
#include "wkt.pb.h"

namespace reaper::shim {

namespace topic {
inline constexpr std::string_view task_create = "/tasks/create";
inline constexpr std::string_view task_start = "/tasks/start";
inline constexpr std::string_view task_exit = "/tasks/exit";
inline constexpr std::string_view task_delete = "/tasks/delete";
inline constexpr std::string_view task_exec_added = "/tasks/exec-added";
inline constexpr std::string_view task_exec_started = "/tasks/exec-started";
inline constexpr std::string_view task_oom = "/tasks/oom";
inline constexpr std::string_view task_paused = "/tasks/paused";
inline constexpr std::string_view task_resumed = "/tasks/resumed";
}  // namespace topic

inline constexpr std::string_view events_service = "containerd.services.events.ttrpc.v1.Events";

class EventSink {
 public:
  virtual ~EventSink() = default;
  // `event` is a containerd.events message; its Any type_url is its full
  // name ("containerd.events.TaskExit").
  virtual void publish(std::string_view topic, const google::protobuf::MessageLite& event) = 0;
};

// Drops events (no TTRPC_ADDRESS, tests).
class NullEventSink final : public EventSink {
 public:
  void publish(std::string_view, const google::protobuf::MessageLite&) override {}
};

// The current wall-clock time as a protobuf Timestamp.
reaper::pb::Timestamp timestamp_now();
// A time in ns since the epoch as a protobuf Timestamp.
reaper::pb::Timestamp timestamp_from_ns(int64_t ns);

// The serialized ForwardRequest{Envelope{timestamp, namespace, topic, Any}}.
std::string make_forward_request(std::string_view ns, std::string_view topic,
                                 const google::protobuf::MessageLite& event,
                                 const reaper::pb::Timestamp& when);

class EventPublisher final : public EventSink {
 public:
  struct Options {
    std::chrono::milliseconds call_timeout{5000};
    std::chrono::milliseconds first_retry{100};
    std::chrono::milliseconds max_retry{5000};
    int max_attempts = 8;  // per event, then it is dropped (logged)
  };

  static Result<std::unique_ptr<EventPublisher>> create(EventLoop& loop, std::string ttrpc_address,
                                                        std::string ns, const Log& log,
                                                        Options options);
  static Result<std::unique_ptr<EventPublisher>> create(EventLoop& loop, std::string ttrpc_address,
                                                        std::string ns, const Log& log) {
    return create(loop, std::move(ttrpc_address), std::move(ns), log, Options{});
  }
  EventPublisher(const EventPublisher&) = delete;
  EventPublisher& operator=(const EventPublisher&) = delete;

  void publish(std::string_view topic, const google::protobuf::MessageLite& event) override;

  [[nodiscard]] size_t queued() const { return queue_.size(); }
  // Calls `done` from the loop once the queue is empty (sent, or given up).
  void flush(std::function<void()> done);

 private:
  struct Item {
    std::string topic;
    std::string request;  // serialized ForwardRequest
    int attempts = 0;
  };

  EventPublisher(EventLoop& loop, std::string ns, const Log& log, Options options);
  void send_next();
  void on_answer(const RpcStatus& status);
  void finish_head();

  EventLoop& loop_;
  std::string namespace_;
  const Log& log_;
  Options options_;
  std::unique_ptr<Client> client_;
  std::optional<Timer> retry_timer_;
  std::deque<Item> queue_;
  bool in_flight_ = false;
  std::vector<std::function<void()>> on_empty_;
};

}  // namespace reaper::shim
