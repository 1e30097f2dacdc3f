#pragma once
// Helpers for the ttrpc tests: everything runs in this one thread on one
// EventLoop; a test drives the loop until what it waits for has happened.
// The time limit only turns a hang into a failure, it is never waited out.

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "common/event_loop.h"
#include "shim/frame.h"
#include "shim/log.h"
#include "shim/server.h"
#include "shim/unix_socket.h"
#include "ttrpc.pb.h"

namespace reaper::shim::test {

inline bool run_until(EventLoop& loop, const std::function<bool()>& done,
                      std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    if (!loop.run_once(left).ok()) return false;
  }
  return true;
}

// A fresh abstract socket name: nothing to clean up on disk.
inline std::string unique_address() {
  static std::atomic<int> counter{0};
  return fmt::format("@reaper-test-{}-{}", ::getpid(), counter++);
}

inline std::string request_frame(uint32_t stream, const std::string& service,
                                 const std::string& method, const std::string& payload = {}) {
  ::ttrpc::Request req;
  req.set_service(service);
  req.set_method(method);
  req.set_payload(payload);
  std::string out;
  append_frame(out, stream, FrameType::request, 0, req.SerializeAsString());
  return out;
}

// A hand-driven client socket whose responses are collected by the loop.
class RawClient {
 public:
  RawClient(EventLoop& loop, const std::string& address) {
    auto fd = connect_unix(address);
    if (!fd.ok()) throw std::runtime_error(fd.error().what());
    fd_ = std::move(*fd);
    auto watch = loop.watch(fd_.get(), EPOLLIN, [this](uint32_t) { on_readable(); });
    if (!watch.ok()) throw std::runtime_error(watch.error().what());
    watch_ = std::move(*watch);
  }

  // Writes everything, letting the loop run while the socket is full.
  void send(EventLoop& loop, std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_.get(), data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n < 0) {
        if (errno != EAGAIN) throw std::runtime_error("send failed");
        (void)loop.run_once(std::chrono::milliseconds(1000));
        continue;
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
  }

  void close() {
    watch_.reset();
    fd_.reset();
  }

  struct Answer {
    uint32_t stream_id;
    ::ttrpc::Response response;
  };
  std::vector<Answer> answers;
  bool eof = false;

 private:
  void on_readable() {
    char buf[65536];
    ssize_t n = ::read(fd_.get(), buf, sizeof buf);
    if (n <= 0) {
      eof = true;
      watch_.reset();
      return;
    }
    decoder_.feed(std::string_view(buf, static_cast<size_t>(n)));
    while (auto f = decoder_.next()) {
      Answer a{f->header.stream_id, {}};
      a.response.ParseFromString(f->payload);
      answers.push_back(std::move(a));
    }
  }

  UniqueFd fd_;
  EventLoop::Watch watch_;
  FrameDecoder decoder_;
};

// A loop and a ttrpc server listening on a fresh abstract socket; test
// fixtures derive from it and register their methods or services.
struct ServerHarness {
  ServerHarness() {
    auto l = EventLoop::create();
    REQUIRE(l.ok());
    loop.emplace(std::move(*l));
    address = unique_address();
    auto listener = listen_unix(address);
    REQUIRE(listener.ok());
    auto s = Server::create(*loop, std::move(*listener), log);
    REQUIRE(s.ok());
    server = std::move(*s);
  }

  Log log{-1};
  std::optional<EventLoop> loop;
  std::string address;
  std::unique_ptr<Server> server;
};

}  // namespace reaper::shim::test
