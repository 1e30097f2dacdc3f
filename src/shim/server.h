#pragma once
// A ttrpc server on the shim's event loop: one listening unix socket, many
// connections, unary calls dispatched by (service, method).
//
// containerd multiplexes every call of a task on one connection and blocks a
// Wait until the process exits while Start, Kill and State go over the same
// connection, so a handler does not have to answer before returning: it gets
// a `Reply` it may keep (a "parked" call) and answer later, from any other
// callback of the loop. Replies go out in completion order, not request
// order. Writes are non-blocking through a per-connection output buffer;
// while that buffer is large the connection is not read (back-pressure).
//
// A Reply only holds a weak reference to its connection: answering after the
// peer went away is a no-op, and dropping an unanswered Reply answers
// Internal so that no caller waits forever.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <google/protobuf/message_lite.h>

#include "common/error.h"
#include "common/event_loop.h"
#include "common/fd.h"
#include "shim/frame.h"
#include "shim/log.h"
#include "shim/rpc.h"

namespace reaper::shim {

// Where a Reply delivers its answer: a server connection, or a test double.
class ReplyTarget {
 public:
  virtual ~ReplyTarget() = default;
  virtual void deliver(uint32_t stream_id, const RpcStatus& status, std::string_view payload) = 0;
};

class Reply {
 public:
  Reply() = default;  // answers nothing
  Reply(std::weak_ptr<ReplyTarget> target, uint32_t stream_id)
      : target_(std::move(target)), stream_id_(stream_id), pending_(true) {}
  Reply(const Reply&) = delete;
  Reply& operator=(const Reply&) = delete;
  Reply(Reply&& other) noexcept;
  Reply& operator=(Reply&& other) noexcept;
  ~Reply();

  // Each answers once; later calls are ignored.
  void send(const RpcStatus& status, std::string_view payload = {});
  void ok(const google::protobuf::MessageLite& message);
  void fail(const RpcStatus& status) { send(status); }

  [[nodiscard]] bool pending() const { return pending_; }
  // False once the connection closed: the answer would be dropped.
  [[nodiscard]] bool peer_connected() const { return !target_.expired(); }
  [[nodiscard]] uint32_t stream_id() const { return stream_id_; }

 private:
  std::weak_ptr<ReplyTarget> target_;
  uint32_t stream_id_ = 0;
  bool pending_ = false;
};

struct CallContext {
  std::string service;
  std::string method;
  uint32_t stream_id = 0;
  int64_t timeout_nano = 0;  // 0: none
  std::vector<std::pair<std::string, std::string>> metadata;
  pid_t peer_pid = 0;
  uid_t peer_uid = 0;
};

using Handler = std::function<void(const CallContext& ctx, std::string_view payload, Reply reply)>;

class Server {
 public:
  struct Options {
    // Stop reading a connection while this much output waits to be written.
    size_t max_pending_output = 8U << 20;
    // Refuse peers whose effective uid differs from ours (SO_PEERCRED), as
    // the Go shims do.
    bool check_peer_uid = true;
  };

  // Serves `listener`, a listening unix stream socket (made non-blocking).
  static Result<std::unique_ptr<Server>> create(EventLoop& loop, UniqueFd listener, const Log& log,
                                                Options options);
  static Result<std::unique_ptr<Server>> create(EventLoop& loop, UniqueFd listener,
                                                const Log& log) {
    return create(loop, std::move(listener), log, Options{});
  }
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Registers a method; replaces an earlier registration of the same name.
  void handle(const std::string& service, const std::string& method, Handler handler);

  [[nodiscard]] size_t connection_count() const { return connections_.size(); }

  // Stops accepting, then calls `done` (from the loop) once every connection
  // has written all its queued output or closed. For exiting after replying.
  void drain(std::function<void()> done);

  class Connection;

 private:
  Server(EventLoop& loop, UniqueFd listener, const Log& log, Options options);
  void on_accept();
  void dispatch(const CallContext& ctx, std::string_view payload, Reply reply);
  void close_connection(uint64_t id);
  void check_drained();
  [[nodiscard]] bool output_pending() const;

  friend class Connection;

  EventLoop& loop_;
  const Log& log_;
  Options options_;
  UniqueFd listener_;
  EventLoop::Watch listen_watch_;  // after listener_: reset before it closes
  bool accept_paused_ = false;     // out of fds: resume when a connection closes
  uint64_t next_connection_id_ = 1;
  std::unordered_map<uint64_t, std::shared_ptr<Connection>> connections_;
  std::map<std::string, std::map<std::string, Handler, std::less<>>, std::less<>> services_;
  std::function<void()> on_drained_;
  bool draining_ = false;
};

}  // namespace reaper::shim
