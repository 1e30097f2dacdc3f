// Fuzz target for the task API requests the shim decodes (containerd.task.v2
// and v3): the input is a sequence of calls (method and payload) that is
// framed and enveloped correctly and sent to the real server
// (server_harness.h), so that the fuzzer spends its time in the payloads
// rather than in getting lengths right. Each payload is also decoded as its
// request type and its untrusted fields go through the checks the runtime
// core applies to them (container and exec ids, the exec's OCI Process
// JSON). Seeds: test/fuzz/corpus/task_requests/.

#include "oci/spec.h"
#include "server_harness.h"
#include "shim.pb.h"
#include "state/id.h"

using reaper::fuzz::check;
namespace task = ::containerd::task::v2;

namespace {

constexpr std::string_view methods[] = {
    "Create", "Start", "State",  "Wait",  "Kill",   "Delete",     "Exec",    "ResizePty", "CloseIO",
    "Pids",   "Stats", "Update", "Pause", "Resume", "Checkpoint", "Connect", "Shutdown",
};

void check_id(const std::string& id, std::string_view what) {
  auto st = reaper::state::validate_id(id, what);
  if (st.ok()) {
    check(!id.empty() && id.size() <= 256 && id != "." && id != "..");
    check(id.find('/') == std::string::npos && id.find('\0') == std::string::npos);
  } else {
    // The message names the id, escaped: never a raw control character.
    check(reaper::fuzz::printable(st.error().message()));
  }
}

template <typename Req>
void check_ids(const std::string& payload) {
  Req req;
  if (!req.ParseFromString(payload)) return;
  check_id(req.id(), "container id");
  if constexpr (requires { req.exec_id(); }) {
    if (!req.exec_id().empty()) check_id(req.exec_id(), "exec id");
  }
}

void check_request(std::string_view method, const std::string& payload) {
  if (method == "Create") {
    check_ids<task::CreateTaskRequest>(payload);
  } else if (method == "Exec") {
    task::ExecProcessRequest req;
    if (!req.ParseFromString(payload)) return;
    check_id(req.exec_id(), "exec id");
    if (auto p = reaper::oci::parse_process(req.spec().value(), "exec spec"))
      check(!p->args.empty() && p->cwd.starts_with('/'));
  } else if (method == "Kill") {
    check_ids<task::KillRequest>(payload);
  } else if (method == "ResizePty") {
    check_ids<task::ResizePtyRequest>(payload);
  } else if (method == "Update") {
    check_ids<task::UpdateTaskRequest>(payload);
  } else {
    check_ids<task::StateRequest>(payload);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static reaper::fuzz::ServerHarness harness;
  std::string_view in = reaper::fuzz::as_text(data, size);
  std::string stream;
  size_t calls = 0;
  uint32_t stream_id = 1;
  // Calls: u8 method (>= 0x80: the v3 service) | u16 payload length (big
  // endian) | payload. A short last call takes what is left.
  while (in.size() >= 3 && calls < 64) {
    auto pick = static_cast<uint8_t>(in[0]);
    size_t len =
        (static_cast<size_t>(static_cast<uint8_t>(in[1])) << 8) | static_cast<uint8_t>(in[2]);
    in.remove_prefix(3);
    std::string payload(in.substr(0, len));
    in.remove_prefix(std::min(len, in.size()));

    std::string_view method = methods[(pick & 0x7f) % std::size(methods)];
    check_request(method, payload);
    ::ttrpc::Request req;
    req.set_service(pick & 0x80 ? "containerd.task.v3.Task" : "containerd.task.v2.Task");
    req.set_method(std::string(method));
    req.set_payload(payload);
    reaper::shim::append_frame(stream, stream_id, reaper::shim::FrameType::request, 0,
                               req.SerializeAsString());
    stream_id += 2;
    ++calls;
  }
  harness.exchange(stream, 1 << 16);
  check(harness.answered() == calls);
  return 0;
}
