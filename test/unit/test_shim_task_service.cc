#include <doctest/doctest.h>

#include <unistd.h>

#include <optional>
#include <vector>

#include "shim/client.h"
#include "shim/server.h"
#include "shim/task_service.h"
#include "task_events.pb.h"
#include "test_ttrpc_support.h"

using namespace reaper;
using namespace reaper::shim;
using namespace reaper::shim::test;
using namespace std::chrono_literals;

namespace {

// One container "c1" with pid 42; Wait parks until the test lets it exit.
class FakeBackend : public UnimplementedBackend {
 public:
  void create(const task::CreateTaskRequest& req, Done<task::CreateTaskResponse> done) override {
    if (req.id() == "dup") {
      done.fail(rpc_error(Code::already_exists, "container dup exists"));
      return;
    }
    task::CreateTaskResponse resp;
    resp.set_pid(42);
    done.ok(resp);
  }
  void start(const task::StartRequest& req, Done<task::StartResponse> done) override {
    task::StartResponse resp;
    resp.set_pid(req.exec_id().empty() ? 42 : 43);
    done.ok(resp);
  }
  void wait(const task::WaitRequest& req, Done<task::WaitResponse> done) override {
    if (req.id() != "c1") {
      done.fail(rpc_error(Code::not_found, "container {} not found", req.id()));
      return;
    }
    waits.push_back(std::move(done));
  }
  void remove(const task::DeleteRequest&, Done<task::DeleteResponse> done) override {
    task::DeleteResponse resp;
    resp.set_pid(42);
    resp.set_exit_status(3);
    resp.mutable_exited_at()->set_seconds(99);
    done.ok(resp);
    containers = 0;
  }
  void exec(const task::ExecProcessRequest&, Done<Empty> done) override { done.ok(Empty()); }
  uint32_t task_pid(const std::string& id) const override { return id == "c1" ? 42 : 0; }
  size_t container_count() const override { return containers; }

  void exit_all(uint32_t status) {
    for (auto& done : waits) {
      task::WaitResponse resp;
      resp.set_exit_status(status);
      done.ok(resp);
    }
    waits.clear();
  }

  std::vector<Done<task::WaitResponse>> waits;
  size_t containers = 1;
};

class RecordingSink : public EventSink {
 public:
  void publish(std::string_view topic, const google::protobuf::MessageLite& event) override {
    events.emplace_back(std::string(topic), event.GetTypeName(), event.SerializeAsString());
  }
  std::vector<std::tuple<std::string, std::string, std::string>> events;
};

struct Fixture : ServerHarness {
  Fixture() {
    service.emplace(backend, sink, log, [this] { ++exit_requests; });
    service->register_on(*server);
    auto c = Client::create(*loop, address, log);
    REQUIRE(c.ok());
    client = std::move(*c);
  }

  // One call through the client, run to completion.
  template <typename Resp>
  RpcStatus call(std::string_view service_name, const std::string& method,
                 const google::protobuf::MessageLite& req, Resp* resp) {
    std::optional<RpcStatus> status;
    client->call(std::string(service_name), method, req.SerializeAsString(), 5s,
                 [&](const RpcStatus& st, std::string payload) {
                   status = st;
                   if (resp && st.ok()) REQUIRE(resp->ParseFromString(payload));
                 });
    REQUIRE(run_until(*loop, [&] { return status.has_value(); }));
    return *status;
  }

  FakeBackend backend;
  RecordingSink sink;
  std::optional<TaskService> service;
  int exit_requests = 0;
  std::unique_ptr<Client> client;
};

}  // namespace

TEST_CASE("task service: Connect reports our pid and the task's, on v2 and v3") {
  Fixture fx;
  task::ConnectRequest req;
  req.set_id("c1");
  task::ConnectResponse resp;
  REQUIRE(fx.call(task_service_v2, "Connect", req, &resp).ok());
  CHECK(resp.shim_pid() == static_cast<uint32_t>(::getpid()));
  CHECK(resp.task_pid() == 42);
  CHECK_FALSE(resp.version().empty());
  req.set_id("unknown");
  REQUIRE(fx.call(task_service_v3, "Connect", req, &resp).ok());
  CHECK(resp.task_pid() == 0);
}

TEST_CASE("task service: a parked Wait does not block other calls on the connection") {
  Fixture fx;
  task::WaitRequest wait;
  wait.set_id("c1");
  std::optional<RpcStatus> wait_status;
  task::WaitResponse wait_resp;
  fx.client->call(std::string(task_service_v2), "Wait", wait.SerializeAsString(), 10s,
                  [&](const RpcStatus& st, std::string payload) {
                    wait_status = st;
                    REQUIRE(wait_resp.ParseFromString(payload));
                  });
  REQUIRE(run_until(*fx.loop, [&] { return fx.backend.waits.size() == 1; }));

  task::StartRequest start;
  start.set_id("c1");
  task::StartResponse start_resp;
  REQUIRE(fx.call(task_service_v2, "Start", start, &start_resp).ok());
  CHECK(start_resp.pid() == 42);
  CHECK_FALSE(wait_status.has_value());

  fx.backend.exit_all(137);
  REQUIRE(run_until(*fx.loop, [&] { return wait_status.has_value(); }));
  CHECK(wait_status->ok());
  CHECK(wait_resp.exit_status() == 137);

  wait.set_id("nope");
  CHECK(fx.call(task_service_v2, "Wait", wait, &wait_resp).code == Code::not_found);
}

TEST_CASE("task service: events follow successful calls") {
  Fixture fx;
  task::CreateTaskRequest create;
  create.set_id("c1");
  create.set_bundle("/b");
  create.set_stdout_path("/fifo/out");
  create.set_terminal(true);
  auto* m = create.add_rootfs();
  m->set_type("bind");
  task::CreateTaskResponse create_resp;
  REQUIRE(fx.call(task_service_v2, "Create", create, &create_resp).ok());

  task::StartRequest start;
  start.set_id("c1");
  REQUIRE(fx.call(task_service_v2, "Start", start, (task::StartResponse*)nullptr).ok());
  task::ExecProcessRequest exec;
  exec.set_id("c1");
  exec.set_exec_id("e1");
  REQUIRE(fx.call(task_service_v2, "Exec", exec, (Empty*)nullptr).ok());
  start.set_exec_id("e1");
  REQUIRE(fx.call(task_service_v2, "Start", start, (task::StartResponse*)nullptr).ok());
  task::DeleteRequest del;
  del.set_id("c1");
  del.set_exec_id("e1");
  REQUIRE(fx.call(task_service_v2, "Delete", del, (task::DeleteResponse*)nullptr).ok());
  del.set_exec_id("");
  REQUIRE(fx.call(task_service_v2, "Delete", del, (task::DeleteResponse*)nullptr).ok());
  create.set_id("dup");
  CHECK(fx.call(task_service_v2, "Create", create, &create_resp).code == Code::already_exists);

  auto& ev = fx.sink.events;
  REQUIRE(ev.size() == 5);
  CHECK(std::get<0>(ev[0]) == "/tasks/create");
  CHECK(std::get<1>(ev[0]) == "containerd.events.TaskCreate");
  ::containerd::events::TaskCreate tc;
  REQUIRE(tc.ParseFromString(std::get<2>(ev[0])));
  CHECK(tc.container_id() == "c1");
  CHECK(tc.bundle() == "/b");
  CHECK(tc.pid() == 42);
  CHECK(tc.io().stdout_path() == "/fifo/out");
  CHECK(tc.io().terminal());
  CHECK(tc.rootfs_size() == 1);
  CHECK(std::get<0>(ev[1]) == "/tasks/start");
  CHECK(std::get<0>(ev[2]) == "/tasks/exec-added");
  CHECK(std::get<0>(ev[3]) == "/tasks/exec-started");
  ::containerd::events::TaskExecStarted es;
  REQUIRE(es.ParseFromString(std::get<2>(ev[3])));
  CHECK(es.exec_id() == "e1");
  CHECK(es.pid() == 43);
  CHECK(std::get<0>(ev[4]) == "/tasks/delete");  // only for the init process
  ::containerd::events::TaskDelete td;
  REQUIRE(td.ParseFromString(std::get<2>(ev[4])));
  CHECK(td.exit_status() == 3);
  CHECK(td.exited_at().seconds() == 99);
}

TEST_CASE("task service: unwired methods are Unimplemented; bad payloads InvalidArgument") {
  Fixture fx;
  task::KillRequest kill;
  kill.set_id("c1");
  auto st = fx.call(task_service_v2, "Kill", kill, (Empty*)nullptr);
  CHECK(st.code == Code::unimplemented);
  CHECK(st.message.find("kill `c1`") != std::string::npos);
  task::PauseRequest pause;
  CHECK(fx.call(task_service_v3, "Pause", pause, (Empty*)nullptr).code == Code::unimplemented);

  std::optional<RpcStatus> status;
  fx.client->call(std::string(task_service_v2), "State", "\xff\xff", 5s,
                  [&](const RpcStatus& s, std::string) { status = s; });
  REQUIRE(run_until(*fx.loop, [&] { return status.has_value(); }));
  CHECK(status->code == Code::invalid_argument);
}

TEST_CASE("task service: Shutdown answers, then exits only without containers") {
  Fixture fx;
  task::ShutdownRequest req;
  req.set_id("c1");
  REQUIRE(fx.call(task_service_v2, "Shutdown", req, (Empty*)nullptr).ok());
  CHECK(fx.exit_requests == 0);
  fx.backend.containers = 0;
  REQUIRE(fx.call(task_service_v2, "Shutdown", req, (Empty*)nullptr).ok());
  CHECK(fx.exit_requests == 1);
}
