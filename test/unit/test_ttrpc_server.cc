#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <vector>

#include "common/syscalls.h"
#include "shim/client.h"
#include "shim/server.h"
#include "shim/unix_socket.h"
#include "test_ttrpc_support.h"

using namespace reaper;
using namespace reaper::shim;
using namespace reaper::shim::test;
using namespace std::chrono_literals;

namespace {

// A loop with a server on a fresh abstract socket and a few test methods:
// Echo answers at once, Park keeps its Reply for the test to answer, Drop
// returns without answering.
struct Fixture : ServerHarness {
  Fixture() {
    server->handle("test.Svc", "Echo",
                   [](const CallContext&, std::string_view payload, Reply reply) {
                     reply.send(RpcStatus{}, payload);
                   });
    server->handle("test.Svc", "Park",
                   [this](const CallContext& ctx, std::string_view, Reply reply) {
                     contexts.push_back(ctx);
                     parked.push_back(std::move(reply));
                   });
    server->handle("test.Svc", "Drop", [](const CallContext&, std::string_view, Reply) {});
  }

  std::vector<Reply> parked;
  std::vector<CallContext> contexts;
};

}  // namespace

TEST_CASE("server: unknown service and method answer Unimplemented") {
  Fixture fx;
  RawClient c(*fx.loop, fx.address);
  c.send(*fx.loop, request_frame(1, "nope.Svc", "Echo") + request_frame(3, "test.Svc", "Nope"));
  REQUIRE(run_until(*fx.loop, [&] { return c.answers.size() == 2; }));
  CHECK(c.answers[0].stream_id == 1);
  CHECK(c.answers[0].response.status().code() == 12);
  CHECK(c.answers[0].response.status().message() == "service nope.Svc");
  CHECK(c.answers[1].stream_id == 3);
  CHECK(c.answers[1].response.status().code() == 12);
  CHECK(c.answers[1].response.status().message() == "method Nope");
}

TEST_CASE("server: a successful call answers status 0a 00 and the payload") {
  Fixture fx;
  RawClient c(*fx.loop, fx.address);
  c.send(*fx.loop, request_frame(1, "test.Svc", "Echo", "hello"));
  REQUIRE(run_until(*fx.loop, [&] { return c.answers.size() == 1; }));
  CHECK(c.answers[0].response.has_status());
  CHECK(c.answers[0].response.status().code() == 0);
  CHECK(c.answers[0].response.payload() == "hello");
  CHECK(c.answers[0].response.SerializeAsString() == std::string("\x0a\x00\x12\x05hello", 9));
}

TEST_CASE("server: stream ids must be odd and increasing") {
  Fixture fx;
  RawClient c(*fx.loop, fx.address);
  c.send(*fx.loop, request_frame(2, "test.Svc", "Echo", "even") +
                       request_frame(5, "test.Svc", "Echo", "five") +
                       request_frame(5, "test.Svc", "Echo", "again") +
                       request_frame(3, "test.Svc", "Echo", "back") +
                       request_frame(7, "test.Svc", "Echo", "seven"));
  REQUIRE(run_until(*fx.loop, [&] { return c.answers.size() == 5; }));
  CHECK(c.answers[0].stream_id == 2);
  CHECK(c.answers[0].response.status().code() == 3);
  CHECK(c.answers[1].response.status().code() == 0);
  CHECK(c.answers[1].response.payload() == "five");
  CHECK(c.answers[2].stream_id == 5);
  CHECK(c.answers[2].response.status().code() == 3);
  CHECK(c.answers[3].stream_id == 3);
  CHECK(c.answers[3].response.status().code() == 3);
  CHECK(c.answers[4].response.payload() == "seven");
}

TEST_CASE("server: a garbage request answers InvalidArgument; other frame types are ignored") {
  Fixture fx;
  RawClient c(*fx.loop, fx.address);
  std::string wire;
  append_frame(wire, 1, FrameType::request, 0, "\xff\xff\xff");
  append_frame(wire, 3, FrameType::data, 0, "ignored");
  append_frame(wire, 5, FrameType::response, 0, "ignored");
  wire += request_frame(7, "test.Svc", "Echo", "x");
  c.send(*fx.loop, wire);
  REQUIRE(run_until(*fx.loop, [&] { return c.answers.size() == 2; }));
  CHECK(c.answers[0].stream_id == 1);
  CHECK(c.answers[0].response.status().code() == 3);
  CHECK(c.answers[1].stream_id == 7);
}

TEST_CASE("server: an oversize frame answers ResourceExhausted and the connection goes on") {
  Fixture fx;
  RawClient c(*fx.loop, fx.address);
  std::string big(frame_max_payload + 1000, 'z');
  std::string wire;
  append_frame(wire, 1, FrameType::request, 0, big);
  c.send(*fx.loop, wire);
  c.send(*fx.loop, request_frame(3, "test.Svc", "Echo", "after"));
  REQUIRE(run_until(*fx.loop, [&] { return c.answers.size() == 2; }));
  CHECK(c.answers[0].stream_id == 1);
  CHECK(c.answers[0].response.status().code() == 8);
  CHECK(c.answers[1].stream_id == 3);
  CHECK(c.answers[1].response.payload() == "after");
}

TEST_CASE("server: parked calls are answered later, out of order") {
  Fixture fx;
  RawClient c(*fx.loop, fx.address);
  c.send(*fx.loop, request_frame(1, "test.Svc", "Park") + request_frame(3, "test.Svc", "Park") +
                       request_frame(5, "test.Svc", "Echo", "fast"));
  REQUIRE(run_until(*fx.loop, [&] { return c.answers.size() == 1 && fx.parked.size() == 2; }));
  CHECK(c.answers[0].stream_id == 5);
  CHECK(fx.contexts[0].service == "test.Svc");
  CHECK(fx.contexts[0].method == "Park");
  CHECK(fx.contexts[0].peer_pid == ::getpid());
  fx.parked[1].send(RpcStatus{}, "second");
  fx.parked[0].fail(rpc_error(Code::not_found, "first"));
  REQUIRE(run_until(*fx.loop, [&] { return c.answers.size() == 3; }));
  CHECK(c.answers[1].stream_id == 3);
  CHECK(c.answers[1].response.payload() == "second");
  CHECK(c.answers[2].stream_id == 1);
  CHECK(c.answers[2].response.status().code() == 5);
  CHECK(c.answers[2].response.status().message() == "first");
}

TEST_CASE("server: a reply dropped unanswered answers Internal") {
  Fixture fx;
  RawClient c(*fx.loop, fx.address);
  c.send(*fx.loop, request_frame(1, "test.Svc", "Drop"));
  REQUIRE(run_until(*fx.loop, [&] { return c.answers.size() == 1; }));
  CHECK(c.answers[0].response.status().code() == 13);
}

TEST_CASE("server: answering after the peer left is a no-op") {
  Fixture fx;
  {
    RawClient c(*fx.loop, fx.address);
    c.send(*fx.loop, request_frame(1, "test.Svc", "Park"));
    REQUIRE(run_until(*fx.loop, [&] { return fx.parked.size() == 1; }));
    CHECK(fx.server->connection_count() == 1);
    CHECK(fx.parked[0].peer_connected());
  }
  REQUIRE(run_until(*fx.loop, [&] { return fx.server->connection_count() == 0; }));
  CHECK_FALSE(fx.parked[0].peer_connected());
  fx.parked[0].send(RpcStatus{}, "late");
  CHECK_FALSE(fx.parked[0].pending());
}

TEST_CASE("server: several connections are served independently") {
  Fixture fx;
  RawClient a(*fx.loop, fx.address), b(*fx.loop, fx.address);
  a.send(*fx.loop, request_frame(1, "test.Svc", "Park"));
  b.send(*fx.loop, request_frame(1, "test.Svc", "Echo", "b"));
  REQUIRE(run_until(*fx.loop, [&] { return b.answers.size() == 1 && fx.parked.size() == 1; }));
  CHECK(a.answers.empty());
  fx.parked[0].send(RpcStatus{}, "a");
  REQUIRE(run_until(*fx.loop, [&] { return a.answers.size() == 1; }));
  CHECK(a.answers[0].response.payload() == "a");
}

TEST_CASE("server: drain waits for the queued answers, then calls back") {
  Fixture fx;
  RawClient c(*fx.loop, fx.address);
  c.send(*fx.loop, request_frame(1, "test.Svc", "Echo", "x"));
  REQUIRE(run_until(*fx.loop, [&] { return c.answers.size() == 1; }));
  bool drained = false;
  fx.server->drain([&] { drained = true; });
  REQUIRE(run_until(*fx.loop, [&] { return drained; }));
}

TEST_CASE("client: calls, errors, out-of-order answers and deadlines") {
  Fixture fx;
  auto client = Client::create(*fx.loop, "unix://" + fx.address, fx.log);
  REQUIRE(client.ok());
  struct Got {
    RpcStatus status;
    std::string payload;
  };
  std::vector<std::pair<int, Got>> got;
  auto record = [&](int tag) {
    return [&got, tag](const RpcStatus& st, std::string payload) {
      got.push_back({tag, {st, payload}});
    };
  };
  (*client)->call("test.Svc", "Park", "", 10s, record(1));
  (*client)->call("test.Svc", "Echo", "two", 10s, record(2));
  (*client)->call("test.Svc", "Missing", "", 10s, record(3));
  CHECK(got.empty());  // never from inside call()
  REQUIRE(run_until(*fx.loop, [&] { return got.size() == 2 && fx.parked.size() == 1; }));
  CHECK(got[0].first == 2);
  CHECK(got[0].second.payload == "two");
  CHECK(got[1].first == 3);
  CHECK(got[1].second.status.code == Code::unimplemented);
  CHECK(fx.contexts[0].stream_id == 1);
  CHECK(fx.contexts[0].timeout_nano == 10'000'000'000);
  fx.parked[0].send(RpcStatus{}, "one");
  REQUIRE(run_until(*fx.loop, [&] { return got.size() == 3; }));
  CHECK(got[2].first == 1);
  CHECK(got[2].second.payload == "one");

  (*client)->call("test.Svc", "Park", "", 30ms, record(4));
  REQUIRE(run_until(*fx.loop, [&] { return got.size() == 4; }));
  CHECK(got[3].second.status.code == Code::deadline_exceeded);
  CHECK((*client)->pending_calls() == 0);
  fx.parked[1].send(RpcStatus{}, "too late");  // ignored by the client
  (*client)->call("test.Svc", "Echo", "still fine", 10s, record(5));
  REQUIRE(run_until(*fx.loop, [&] { return got.size() == 5; }));
  CHECK(got[4].second.payload == "still fine");
}

TEST_CASE("client: no server is Unavailable; a server going away fails pending calls") {
  auto loop = EventLoop::create();
  REQUIRE(loop.ok());
  Log log(-1);
  std::vector<RpcStatus> got;
  auto nobody = Client::create(*loop, unique_address(), log);
  REQUIRE(nobody.ok());
  (*nobody)->call("s", "m", "", 1s, [&](const RpcStatus& st, std::string) { got.push_back(st); });
  REQUIRE(run_until(*loop, [&] { return got.size() == 1; }));
  CHECK(got[0].code == Code::unavailable);

  // A failure still queued when the client goes away is not delivered.
  (*nobody)->call("s", "m", "", 1s, [&](const RpcStatus& st, std::string) { got.push_back(st); });
  nobody->reset();
  REQUIRE(loop->run_once(0ms).ok());
  CHECK(got.size() == 1);

  Fixture fx;
  auto client = Client::create(*fx.loop, fx.address, fx.log);
  REQUIRE(client.ok());
  (*client)->call("test.Svc", "Park", "", 10s,
                  [&](const RpcStatus& st, std::string) { got.push_back(st); });
  REQUIRE(run_until(*fx.loop, [&] { return fx.parked.size() == 1; }));
  fx.server.reset();  // closes every connection
  REQUIRE(run_until(*fx.loop, [&] { return got.size() == 2; }));
  CHECK(got[1].code == Code::unavailable);
  CHECK_FALSE((*client)->connected());
}

TEST_CASE("server: a peer with another euid is refused") {
  if (::geteuid() != 0) {
    MESSAGE("skipped: needs root to connect as another user");
    return;
  }
  Fixture fx;
  auto addr = make_unix_address(fx.address);
  REQUIRE(addr.ok());
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // Async-signal-safe only: connect as nobody, expect the server to hang up.
    if (::setresgid(65534, 65534, 65534) < 0 || ::setresuid(65534, 65534, 65534) < 0) ::_exit(2);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&addr->addr), addr->len) < 0)
      ::_exit(3);
    char c;
    ::_exit(::read(fd, &c, 1) == 0 ? 0 : 4);
  }
  UniqueFd pidfd(sys::pidfd_open(pid));
  REQUIRE(pidfd);
  bool exited = false;
  auto watch = fx.loop->watch(pidfd.get(), EPOLLIN, [&](uint32_t) { exited = true; });
  REQUIRE(watch.ok());
  REQUIRE(run_until(*fx.loop, [&] { return exited; }));
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(fx.server->connection_count() == 0);
}
