#include <doctest/doctest.h>

#include <stdlib.h>
#include <unistd.h>

#include <optional>
#include <vector>

#include "events_ttrpc.pb.h"
#include "shim/events.h"
#include "shim/server.h"
#include "task_events.pb.h"
#include "test_ttrpc_support.h"

using namespace reaper;
using namespace reaper::shim;
using namespace reaper::shim::test;
using namespace std::chrono_literals;

namespace {

// containerd's side: an Events service that records what it is forwarded
// and can refuse or hold calls.
struct FakeContainerd {
  FakeContainerd(EventLoop& loop, const std::string& address, const Log& log) {
    auto listener = listen_unix(address);
    REQUIRE(listener.ok());
    auto s = Server::create(loop, std::move(*listener), log);
    REQUIRE(s.ok());
    server = std::move(*s);
    server->handle(std::string(events_service), "Forward",
                   [this](const CallContext&, std::string_view payload, Reply reply) {
                     ::containerd::services::events::ttrpc::v1::ForwardRequest req;
                     REQUIRE(req.ParseFromArray(payload.data(), static_cast<int>(payload.size())));
                     if (refuse_next) {
                       refuse_next = false;
                       reply.fail(rpc_error(Code::invalid_argument, "bad event"));
                       return;
                     }
                     if (hold) {
                       held.push_back(std::move(reply));
                       return;
                     }
                     received.push_back(req.envelope());
                     reply.ok(reaper::pb::Empty());
                   });
  }
  std::unique_ptr<Server> server;
  std::vector<::containerd::services::events::ttrpc::v1::Envelope> received;
  std::vector<Reply> held;
  bool refuse_next = false;
  bool hold = false;
};

::containerd::events::TaskExit exit_event(const std::string& id, uint32_t status) {
  ::containerd::events::TaskExit e;
  e.set_container_id(id);
  e.set_id(id);
  e.set_pid(42);
  e.set_exit_status(status);
  return e;
}

}  // namespace

TEST_CASE("envelope: namespace, topic, bare type name, timestamp") {
  reaper::pb::Timestamp when;
  when.set_seconds(1700000000);
  when.set_nanos(5);
  std::string wire = make_forward_request("k8s.io", topic::task_exit, exit_event("c1", 137), when);
  ::containerd::services::events::ttrpc::v1::ForwardRequest req;
  REQUIRE(req.ParseFromString(wire));
  const auto& env = req.envelope();
  CHECK(env.namespace_() == "k8s.io");
  CHECK(env.topic() == "/tasks/exit");
  CHECK(env.timestamp().seconds() == 1700000000);
  CHECK(env.event().type_url() == "containerd.events.TaskExit");
  ::containerd::events::TaskExit back;
  REQUIRE(back.ParseFromString(env.event().value()));
  CHECK(back.exit_status() == 137);
  CHECK(timestamp_now().seconds() > 1700000000);
}

TEST_CASE("publisher: events arrive in order, one call at a time") {
  auto loop = EventLoop::create();
  REQUIRE(loop.ok());
  Log log(-1);
  std::string address = unique_address();
  FakeContainerd containerd(*loop, address, log);
  containerd.hold = true;
  auto pub = EventPublisher::create(*loop, address, "default", log);
  REQUIRE(pub.ok());
  for (uint32_t i = 0; i < 3; ++i)
    (*pub)->publish(topic::task_exit, exit_event("c" + std::to_string(i), i));
  REQUIRE(run_until(*loop, [&] { return containerd.held.size() == 1; }));
  // Only the head is in flight while it is unanswered.
  for (int i = 0; i < 5; ++i) REQUIRE(loop->run_once(0ms).ok());
  CHECK(containerd.held.size() == 1);
  CHECK((*pub)->queued() == 3);
  containerd.hold = false;
  containerd.held[0].ok(reaper::pb::Empty());
  REQUIRE(run_until(*loop, [&] { return containerd.received.size() == 2; }));
  CHECK(containerd.received[0].namespace_() == "default");
  ::containerd::events::TaskExit e;
  REQUIRE(e.ParseFromString(containerd.received[0].event().value()));
  CHECK(e.container_id() == "c1");
  REQUIRE(e.ParseFromString(containerd.received[1].event().value()));
  CHECK(e.container_id() == "c2");
  bool flushed = false;
  (*pub)->flush([&] { flushed = true; });
  REQUIRE(run_until(*loop, [&] { return flushed; }));
  CHECK((*pub)->queued() == 0);
}

TEST_CASE("publisher: a refused event is dropped and the queue goes on") {
  auto loop = EventLoop::create();
  REQUIRE(loop.ok());
  Log log(-1);
  std::string address = unique_address();
  FakeContainerd containerd(*loop, address, log);
  containerd.refuse_next = true;
  auto pub = EventPublisher::create(*loop, address, "default", log);
  REQUIRE(pub.ok());
  (*pub)->publish(topic::task_exit, exit_event("refused", 1));
  (*pub)->publish(topic::task_exit, exit_event("accepted", 2));
  REQUIRE(run_until(*loop, [&] { return containerd.received.size() == 1; }));
  ::containerd::events::TaskExit e;
  REQUIRE(e.ParseFromString(containerd.received[0].event().value()));
  CHECK(e.container_id() == "accepted");
}

TEST_CASE("publisher: retries on a new connection until containerd is back") {
  auto loop = EventLoop::create();
  REQUIRE(loop.ok());
  Log log(-1);
  char dir_template[] = "/tmp/reaper-test-XXXXXX";
  REQUIRE(::mkdtemp(dir_template) != nullptr);
  std::string path = std::string(dir_template) + "/containerd.sock.ttrpc";

  EventPublisher::Options options;
  options.first_retry = 5ms;
  options.max_retry = 20ms;
  options.max_attempts = 1000;
  auto pub = EventPublisher::create(*loop, "unix://" + path, "ns", log, options);
  REQUIRE(pub.ok());
  (*pub)->publish(topic::task_start, exit_event("c", 0));
  // The first attempt failed at once (nothing listens); its answer is
  // delivered from the loop and arms the retry timer.
  REQUIRE(loop->run_once(0ms).ok());
  CHECK((*pub)->queued() == 1);

  std::optional<FakeContainerd> containerd;
  containerd.emplace(*loop, path, log);
  REQUIRE(run_until(*loop, [&] { return containerd->received.size() == 1; }));
  CHECK(containerd->received[0].topic() == "/tasks/start");

  // containerd restarts: the next event is sent on a new connection.
  containerd.reset();
  ::unlink(path.c_str());
  (*pub)->publish(topic::task_exit, exit_event("c", 1));
  REQUIRE(loop->run_once(0ms).ok());
  containerd.emplace(*loop, path, log);
  REQUIRE(run_until(*loop, [&] { return containerd->received.size() == 1; }));
  CHECK(containerd->received[0].topic() == "/tasks/exit");
  containerd.reset();
  ::unlink(path.c_str());
  ::rmdir(dir_template);
}
