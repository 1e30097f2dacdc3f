#pragma once
// A non-blocking ttrpc client on the event loop, for unary calls (the shim
// uses it to forward events to containerd). Connects lazily on the first
// call, multiplexes calls on odd, increasing stream ids, and gives every call
// a deadline. It never blocks and never calls back from inside call():
// results are delivered from the loop.
//
// Failures reach the callback as statuses: Unavailable when the connection
// cannot be made or breaks (the connection is then dropped and the next call
// reconnects), DeadlineExceeded when no answer came in time (a late answer
// is ignored), and whatever status the server answered otherwise.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/error.h"
#include "common/event_loop.h"
#include "common/fd.h"
#include "shim/frame.h"
#include "shim/log.h"
#include "shim/rpc.h"

namespace reaper::shim {

class Client {
 public:
  using Callback = std::function<void(const RpcStatus& status, std::string payload)>;

  static Result<std::unique_ptr<Client>> create(EventLoop& loop, std::string address,
                                                const Log& log);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Starts a call; `done` runs once, later, from the loop (never after the
  // Client is destroyed). Callbacks must not destroy the Client.
  void call(const std::string& service, const std::string& method, std::string payload,
            std::chrono::milliseconds timeout, Callback done);

  // Drops the connection; pending calls fail with Unavailable.
  void close(std::string_view reason = "connection closed");

  [[nodiscard]] bool connected() const { return fd_.valid() && !connecting_; }
  [[nodiscard]] size_t pending_calls() const { return calls_.size(); }
  [[nodiscard]] const std::string& address() const { return address_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Call {
    Clock::time_point deadline;
    Callback done;
  };

  Client(EventLoop& loop, std::string address, const Log& log);
  Status ensure_connected();
  void on_events(uint32_t events);
  void on_readable();
  void on_response(const Frame& frame);
  void flush();
  void update_interest();
  void on_timer();
  void rearm_timer();
  void fail_later(Callback done, RpcStatus status);

  EventLoop& loop_;
  std::string address_;
  const Log& log_;
  UniqueFd fd_;
  EventLoop::Watch watch_;  // after fd_: reset before it closes
  bool connecting_ = false;
  uint32_t interest_ = 0;
  uint32_t next_stream_id_ = 1;
  FrameDecoder decoder_;
  std::string out_;
  size_t out_offset_ = 0;
  std::map<uint32_t, Call> calls_;
  std::optional<Timer> timer_;  // the earliest deadline of calls_
  // Expires with the Client: failures posted to the loop are dropped after.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace reaper::shim
