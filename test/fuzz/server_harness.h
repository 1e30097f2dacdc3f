#pragma once
// The shim's ttrpc server with its task service, as containerd talks to it:
// a real Server on a real (abstract) unix socket, on one EventLoop in this
// thread, with the task service registered on an UnimplementedBackend (the
// runtime core is not involved: nothing is created on the host). A fuzz
// input is sent on a fresh connection, in pieces of the size it asks for,
// then the client half-closes; the server must answer, see EOF, close the
// connection, and every answer must be a well-formed frame with a
// ttrpc.Response the Go side can decode.

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <google/protobuf/stubs/logging.h>

#include "common/event_loop.h"
#include "fuzz_support.h"
#include "shim/events.h"
#include "shim/frame.h"
#include "shim/log.h"
#include "shim/server.h"
#include "shim/task_backend.h"
#include "shim/task_service.h"
#include "shim/unix_socket.h"
#include "ttrpc.pb.h"

namespace reaper::fuzz {

class ServerHarness {
 public:
  ServerHarness() {
    // Invalid UTF-8 in a string field is an ordinary refusal here, not news.
    google::protobuf::SetLogHandler(
        [](google::protobuf::LogLevel, const char*, int, const std::string&) {});
    auto loop = EventLoop::create();
    check(loop.ok());
    loop_.emplace(std::move(*loop));
    address_ = fmt::format("@reaper-fuzz-{}", ::getpid());
    auto listener = shim::listen_unix(address_);
    check(listener.ok());
    auto server = shim::Server::create(*loop_, std::move(*listener), log_);
    check(server.ok());
    server_ = std::move(*server);
    service_.emplace(backend_, events_, log_, [] {});
    service_->register_on(*server_);
  }

  // Sends `stream` in pieces of `chunk` bytes and collects the answers.
  void exchange(std::string_view stream, size_t chunk) {
    auto fd = shim::connect_unix(address_);
    check(fd.ok());
    client_ = std::move(*fd);
    eof_ = false;
    answered_ = 0;
    decoder_ = shim::FrameDecoder();
    auto watch = loop_->watch(client_.get(), EPOLLIN, [this](uint32_t) { on_readable(); });
    check(watch.ok());
    client_watch_ = std::move(*watch);

    while (!stream.empty()) {
      ssize_t n = ::send(client_.get(), stream.data(), std::min(chunk, stream.size()),
                         MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n < 0) {
        check(errno == EAGAIN);
        check(loop_->run_once(std::chrono::milliseconds(-1)).ok());
        continue;
      }
      stream.remove_prefix(static_cast<size_t>(n));
      check(loop_->run_once(std::chrono::milliseconds(0)).ok());
    }
    ::shutdown(client_.get(), SHUT_WR);
    // Until the server has closed its end: every wait is the kernel's.
    while (!eof_) check(loop_->run_once(std::chrono::milliseconds(-1)).ok());
    client_watch_.reset();
    client_.reset();
    check(server_->connection_count() == 0);
    check(!decoder_.mid_frame());
  }

  [[nodiscard]] size_t answered() const { return answered_; }

 private:
  void on_readable() {
    char buf[65536];
    ssize_t n = ::read(client_.get(), buf, sizeof buf);
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
      eof_ = true;
      client_watch_.reset();
      return;
    }
    decoder_.feed(std::string_view(buf, static_cast<size_t>(n)));
    while (auto frame = decoder_.next()) {
      check(!frame->oversize);
      check(frame->header.type == static_cast<uint8_t>(shim::FrameType::response));
      ::ttrpc::Response response;
      check(response.ParseFromString(frame->payload));
      check(response.has_status());
      ++answered_;
    }
  }

  shim::Log log_{-1};
  std::optional<EventLoop> loop_;
  std::string address_;
  std::unique_ptr<shim::Server> server_;
  shim::UnimplementedBackend backend_;
  shim::NullEventSink events_;
  std::optional<shim::TaskService> service_;
  UniqueFd client_;
  EventLoop::Watch client_watch_;  // after client_: reset before it closes
  shim::FrameDecoder decoder_;
  bool eof_ = false;
  size_t answered_ = 0;
};

}  // namespace reaper::fuzz
