#include "shim/server.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstring>

#include "ttrpc.pb.h"

namespace reaper::shim {

// --- Reply -------------------------------------------------------------------

Reply::Reply(Reply&& other) noexcept
    : target_(std::move(other.target_)),
      stream_id_(other.stream_id_),
      pending_(std::exchange(other.pending_, false)) {}

Reply& Reply::operator=(Reply&& other) noexcept {
  if (this != &other) {
    if (pending_) send(rpc_error(Code::internal, "request dropped without an answer"));
    target_ = std::move(other.target_);
    stream_id_ = other.stream_id_;
    pending_ = std::exchange(other.pending_, false);
  }
  return *this;
}

Reply::~Reply() {
  if (pending_) send(rpc_error(Code::internal, "request dropped without an answer"));
}

void Reply::send(const RpcStatus& status, std::string_view payload) {
  if (!pending_) return;
  pending_ = false;
  if (auto target = target_.lock()) target->deliver(stream_id_, status, payload);
}

void Reply::ok(const google::protobuf::MessageLite& message) {
  std::string payload;
  if (!message.SerializeToString(&payload)) {
    send(rpc_error(Code::internal, "serialize {}", message.GetTypeName()));
    return;
  }
  send(RpcStatus{}, payload);
}

// --- Connection ----------------------------------------------------------------

class Server::Connection final : public ReplyTarget,
                                 public std::enable_shared_from_this<Connection> {
 public:
  Connection(Server& server, uint64_t id, UniqueFd fd, const ucred& peer)
      : server_(server), id_(id), fd_(std::move(fd)), peer_(peer) {}

  Status start(EventLoop& loop) {
    std::weak_ptr<Connection> weak = weak_from_this();
    interest_ = EPOLLIN;
    watch_ = REAPER_TRY(loop.watch(fd_.get(), interest_, [weak](uint32_t events) {
      if (auto self = weak.lock()) self->on_events(events);  // alive for the whole call
    }));
    return {};
  }

  void deliver(uint32_t stream_id, const RpcStatus& status, std::string_view payload) override {
    if (closed_) return;
    std::string response = encode_response(status, payload);
    if (response.size() > frame_max_payload)
      response =
          encode_response(rpc_error(Code::resource_exhausted,
                                    "response of {} bytes exceeds the maximum message size of {}",
                                    response.size(), frame_max_payload),
                          {});
    append_frame(out_, stream_id, FrameType::response, 0, response);
    flush();
  }

  void close() {
    closed_ = true;
    watch_.reset();
    fd_.reset();
    out_.clear();
    out_offset_ = 0;
  }

  [[nodiscard]] bool output_pending() const { return !closed_ && out_offset_ < out_.size(); }

 private:
  void on_events(uint32_t events) {
    if (events & EPOLLOUT) flush();
    if (closed_) return;
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable();
  }

  void on_readable() {
    std::array<char, 64 * 1024> buf;
    ssize_t n = ::read(fd_.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      server_.log_.debug("ttrpc connection from pid {}: read: {}", peer_.pid, std::strerror(errno));
      server_.close_connection(id_);
      return;
    }
    if (n == 0) {
      if (decoder_.mid_frame())
        server_.log_.debug("ttrpc connection from pid {}: closed in the middle of a frame",
                           peer_.pid);
      server_.close_connection(id_);
      return;
    }
    decoder_.feed(std::string_view(buf.data(), static_cast<size_t>(n)));
    while (!closed_) {
      auto frame = decoder_.next();
      if (!frame) break;
      handle_frame(*frame);
    }
  }

  void handle_frame(const Frame& frame) {
    const FrameHeader& h = frame.header;
    if (frame.oversize) {
      deliver(
          h.stream_id,
          rpc_error(Code::resource_exhausted, "message length {} exceed maximum message size of {}",
                    h.length, frame_max_payload),
          {});
      return;
    }
    // Responses and data frames from a client: ignored, for compatibility
    // with future stream types (as the Go server does).
    if (h.type != static_cast<uint8_t>(FrameType::request)) return;

    ::ttrpc::Request request;
    if (!request.ParseFromString(frame.payload)) {
      deliver(h.stream_id,
              rpc_error(Code::invalid_argument, "unmarshal request error: invalid ttrpc.Request"),
              {});
      return;
    }
    if (h.stream_id % 2 != 1) {
      deliver(
          h.stream_id,
          rpc_error(Code::invalid_argument, "StreamID must be odd for client initiated streams"),
          {});
      return;
    }
    if (h.stream_id <= last_stream_id_) {
      deliver(h.stream_id,
              rpc_error(Code::invalid_argument, "StreamID cannot be re-used and must increment"),
              {});
      return;
    }
    last_stream_id_ = h.stream_id;

    CallContext ctx;
    ctx.service = request.service();
    ctx.method = request.method();
    ctx.stream_id = h.stream_id;
    ctx.timeout_nano = request.timeout_nano();
    for (const auto& kv : request.metadata()) ctx.metadata.emplace_back(kv.key(), kv.value());
    ctx.peer_pid = peer_.pid;
    ctx.peer_uid = peer_.uid;
    server_.dispatch(ctx, request.payload(), Reply(weak_from_this(), h.stream_id));
  }

  void flush() {
    while (out_offset_ < out_.size()) {
      ssize_t n = ::send(fd_.get(), out_.data() + out_offset_, out_.size() - out_offset_,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        server_.log_.debug("ttrpc connection from pid {}: write: {}", peer_.pid,
                           std::strerror(errno));
        server_.close_connection(id_);
        return;
      }
      out_offset_ += static_cast<size_t>(n);
    }
    if (out_offset_ == out_.size()) {
      out_.clear();
      out_offset_ = 0;
    } else if (out_offset_ >= (1U << 20)) {
      out_.erase(0, out_offset_);
      out_offset_ = 0;
    }
    update_interest();
    if (!output_pending()) server_.check_drained();
  }

  void update_interest() {
    size_t pending = out_.size() - out_offset_;
    uint32_t want = 0;
    if (pending < server_.options_.max_pending_output) want |= EPOLLIN;
    if (pending > 0) want |= EPOLLOUT;
    if (want == interest_) return;
    if (auto st = watch_.modify(want); !st) {
      server_.log_.error("ttrpc connection from pid {}: {}", peer_.pid, st.error().what());
      server_.close_connection(id_);
      return;
    }
    interest_ = want;
  }

  Server& server_;
  uint64_t id_;
  UniqueFd fd_;
  EventLoop::Watch watch_;  // after fd_: reset before it closes
  ucred peer_;
  FrameDecoder decoder_;
  std::string out_;
  size_t out_offset_ = 0;
  uint32_t last_stream_id_ = 0;
  uint32_t interest_ = 0;
  bool closed_ = false;
};

// --- Server --------------------------------------------------------------------

Server::Server(EventLoop& loop, UniqueFd listener, const Log& log, Options options)
    : loop_(loop), log_(log), options_(options), listener_(std::move(listener)) {}

Result<std::unique_ptr<Server>> Server::create(EventLoop& loop, UniqueFd listener, const Log& log,
                                               Options options) {
  int flags = ::fcntl(listener.get(), F_GETFL);
  if (flags < 0 || ::fcntl(listener.get(), F_SETFL, flags | O_NONBLOCK) < 0)
    return sys_error("ttrpc server: set listening socket non-blocking");
  ::fcntl(listener.get(), F_SETFD, FD_CLOEXEC);
  std::unique_ptr<Server> server(new Server(loop, std::move(listener), log, options));
  Server* raw = server.get();
  server->listen_watch_ = REAPER_TRY_CTX(
      loop.watch(raw->listener_.get(), EPOLLIN, [raw](uint32_t) { raw->on_accept(); }),
      "ttrpc server");
  return server;
}

Server::~Server() {
  for (auto& [id, conn] : connections_) conn->close();
  connections_.clear();
}

void Server::handle(const std::string& service, const std::string& method, Handler handler) {
  services_[service][method] = std::move(handler);
}

void Server::on_accept() {
  // A few per wakeup; the listener is level-triggered, so the rest follow.
  for (int i = 0; i < 16; ++i) {
    UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EINTR || errno == ECONNABORTED) continue;
      log_.error("ttrpc server: accept: {}", std::strerror(errno));
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Resumed when a connection closes; level-triggered accept would spin.
        accept_paused_ = true;
        (void)listen_watch_.modify(0);
      }
      return;
    }
    ucred peer{};
    socklen_t len = sizeof peer;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &peer, &len) < 0) {
      log_.error("ttrpc server: getsockopt(SO_PEERCRED): {}", std::strerror(errno));
      continue;
    }
    if (options_.check_peer_uid && peer.uid != ::geteuid()) {
      log_.warn("ttrpc server: refusing connection from pid {} uid {} (not our euid {})", peer.pid,
                peer.uid, ::geteuid());
      continue;
    }
    uint64_t id = next_connection_id_++;
    auto conn = std::make_shared<Connection>(*this, id, std::move(fd), peer);
    if (auto st = conn->start(loop_); !st) {
      log_.error("ttrpc server: {}", st.error().what());
      continue;
    }
    connections_.emplace(id, std::move(conn));
  }
}

void Server::dispatch(const CallContext& ctx, std::string_view payload, Reply reply) {
  auto service = services_.find(ctx.service);
  if (service == services_.end()) {
    reply.fail(rpc_error(Code::unimplemented, "service {}", ctx.service));
    return;
  }
  auto method = service->second.find(ctx.method);
  if (method == service->second.end()) {
    reply.fail(rpc_error(Code::unimplemented, "method {}", ctx.method));
    return;
  }
  Handler handler = method->second;  // a copy: the handler may re-register methods
  handler(ctx, payload, std::move(reply));
}

void Server::close_connection(uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  it->second->close();
  connections_.erase(it);  // a callback on the stack may still hold it; it is closed
  if (accept_paused_ && listen_watch_.active()) {
    accept_paused_ = false;
    (void)listen_watch_.modify(EPOLLIN);
  }
  check_drained();
}

bool Server::output_pending() const {
  for (const auto& [id, conn] : connections_)
    if (conn->output_pending()) return true;
  return false;
}

void Server::drain(std::function<void()> done) {
  draining_ = true;
  listen_watch_.reset();
  on_drained_ = std::move(done);
  check_drained();
}

void Server::check_drained() {
  if (!draining_ || !on_drained_ || output_pending()) return;
  loop_.post(std::exchange(on_drained_, nullptr));
}

}  // namespace reaper::shim
