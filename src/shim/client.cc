#include "shim/client.h"

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstring>

#include "shim/unix_socket.h"
#include "ttrpc.pb.h"

namespace reaper::shim {

Client::Client(EventLoop& loop, std::string address, const Log& log)
    : loop_(loop), address_(std::move(address)), log_(log) {}

Result<std::unique_ptr<Client>> Client::create(EventLoop& loop, std::string address,
                                               const Log& log) {
  std::unique_ptr<Client> client(new Client(loop, std::move(address), log));
  Client* raw = client.get();
  client->timer_ = REAPER_TRY_CTX(Timer::create(loop, [raw] { raw->on_timer(); }), "ttrpc client");
  return client;
}

Client::~Client() {
  watch_.reset();
  fd_.reset();
}

Status Client::ensure_connected() {
  if (fd_) return {};
  auto pending = REAPER_TRY(connect_unix_nonblocking(address_));
  connecting_ = pending.state == ConnectState::in_progress;
  interest_ = connecting_ ? EPOLLOUT : EPOLLIN;
  auto watch =
      loop_.watch(pending.fd.get(), interest_, [this](uint32_t events) { on_events(events); });
  if (!watch.ok()) return std::move(watch).error();
  fd_ = std::move(pending.fd);
  watch_ = std::move(*watch);
  next_stream_id_ = 1;
  decoder_ = FrameDecoder();
  out_.clear();
  out_offset_ = 0;
  return {};
}

void Client::call(const std::string& service, const std::string& method, std::string payload,
                  std::chrono::milliseconds timeout, Callback done) {
  if (next_stream_id_ > 0x7fffffffU) close("stream ids exhausted, reconnecting");
  if (auto st = ensure_connected(); !st) {
    fail_later(std::move(done), RpcStatus{Code::unavailable, st.error().what()});
    return;
  }
  ::ttrpc::Request request;
  request.set_service(service);
  request.set_method(method);
  request.set_payload(std::move(payload));
  request.set_timeout_nano(std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count());
  std::string bytes = request.SerializeAsString();
  if (bytes.size() > frame_max_payload) {
    fail_later(std::move(done),
               rpc_error(Code::resource_exhausted, "request of {} bytes exceeds {}", bytes.size(),
                         frame_max_payload));
    return;
  }
  uint32_t id = next_stream_id_;
  next_stream_id_ += 2;
  calls_.emplace(id, Call{Clock::now() + timeout, std::move(done)});
  append_frame(out_, id, FrameType::request, 0, bytes);
  if (connecting_) {
    update_interest();
  } else {
    flush();
  }
  rearm_timer();
}

void Client::close(std::string_view reason) {
  watch_.reset();
  fd_.reset();
  connecting_ = false;
  out_.clear();
  out_offset_ = 0;
  auto calls = std::exchange(calls_, {});
  for (auto& [id, call] : calls)
    fail_later(std::move(call.done), RpcStatus{Code::unavailable, std::string(reason)});
  if (timer_) timer_->disarm();
}

void Client::fail_later(Callback done, RpcStatus status) {
  loop_.post(
      [alive = std::weak_ptr<int>(alive_), done = std::move(done), status = std::move(status)] {
        if (!alive.expired()) done(status, {});
      });
}

void Client::on_events(uint32_t events) {
  if (connecting_) {
    if (auto st = connect_result(fd_.get()); !st) {
      close(fmt::format("connect `{}`: {}", address_, st.error().what()));
      return;
    }
    connecting_ = false;
    log_.debug("ttrpc client: connected to `{}`", address_);
    flush();
    return;
  }
  if (events & EPOLLOUT) flush();
  if (!fd_) return;
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable();
}

void Client::on_readable() {
  std::array<char, 64 * 1024> buf;
  ssize_t n = ::read(fd_.get(), buf.data(), buf.size());
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    close(fmt::format("read from `{}`: {}", address_, std::strerror(errno)));
    return;
  }
  if (n == 0) {
    close(fmt::format("connection to `{}` closed by the server", address_));
    return;
  }
  decoder_.feed(std::string_view(buf.data(), static_cast<size_t>(n)));
  while (fd_) {
    auto frame = decoder_.next();
    if (!frame) break;
    on_response(*frame);
  }
}

void Client::on_response(const Frame& frame) {
  if (!frame.oversize && frame.header.type != static_cast<uint8_t>(FrameType::response)) return;
  auto it = calls_.find(frame.header.stream_id);
  if (it == calls_.end()) return;  // timed out earlier, or not ours
  Callback done = std::move(it->second.done);
  calls_.erase(it);
  rearm_timer();

  if (frame.oversize) {
    done(rpc_error(Code::resource_exhausted, "response of {} bytes exceeds {}", frame.header.length,
                   frame_max_payload),
         {});
    return;
  }
  ::ttrpc::Response response;
  if (!response.ParseFromString(frame.payload)) {
    done(rpc_error(Code::unknown, "unmarshal ttrpc response from `{}`", address_), {});
    return;
  }
  RpcStatus status{static_cast<Code>(response.status().code()), response.status().message()};
  done(status, std::move(*response.mutable_payload()));
}

void Client::flush() {
  while (out_offset_ < out_.size()) {
    ssize_t n = ::send(fd_.get(), out_.data() + out_offset_, out_.size() - out_offset_,
                       MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      close(fmt::format("write to `{}`: {}", address_, std::strerror(errno)));
      return;
    }
    out_offset_ += static_cast<size_t>(n);
  }
  if (out_offset_ == out_.size()) {
    out_.clear();
    out_offset_ = 0;
  }
  update_interest();
}

void Client::update_interest() {
  if (!fd_) return;
  uint32_t want = EPOLLOUT;
  if (!connecting_) want = out_offset_ < out_.size() ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
  if (want == interest_) return;
  if (auto st = watch_.modify(want); !st) {
    close(st.error().what());
    return;
  }
  interest_ = want;
}

void Client::on_timer() {
  auto now = Clock::now();
  std::vector<Callback> expired;
  for (auto it = calls_.begin(); it != calls_.end();) {
    if (it->second.deadline <= now) {
      expired.push_back(std::move(it->second.done));
      it = calls_.erase(it);
    } else {
      ++it;
    }
  }
  rearm_timer();
  for (auto& done : expired)
    done(rpc_error(Code::deadline_exceeded, "no answer from `{}` in time", address_), {});
}

void Client::rearm_timer() {
  if (!timer_) return;
  if (calls_.empty()) {
    timer_->disarm();
    return;
  }
  auto earliest = calls_.begin()->second.deadline;
  for (const auto& [id, call] : calls_) earliest = std::min(earliest, call.deadline);
  auto wait = std::chrono::ceil<std::chrono::milliseconds>(earliest - Clock::now());
  if (auto st = timer_->arm(std::max(wait, std::chrono::milliseconds(0))); !st)
    log_.error("ttrpc client: {}", st.error().what());
}

}  // namespace reaper::shim
