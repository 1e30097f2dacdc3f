// Fuzz target for what a ttrpc peer controls: the frame stream (split at
// arbitrary points), the ttrpc.Request envelope, and the task API request
// messages inside it. Build with -fsanitize=fuzzer and link the core.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "shim.pb.h"
#include "shim/frame.h"
#include "shim/rpc.h"
#include "ttrpc.pb.h"

namespace {

void parse_task_request(std::string_view method, const std::string& payload) {
  namespace task = ::containerd::task::v2;
  if (method == "Create") {
    task::CreateTaskRequest r;
    (void)r.ParseFromString(payload);
  } else if (method == "Exec") {
    task::ExecProcessRequest r;
    (void)r.ParseFromString(payload);
  } else if (method == "Update") {
    task::UpdateTaskRequest r;
    (void)r.ParseFromString(payload);
  } else {
    task::StateRequest r;
    (void)r.ParseFromString(payload);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the read size, so frames get split everywhere.
  size_t chunk = 1 + data[0] % 64;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

  reaper::shim::FrameDecoder decoder(1 << 16);
  uint32_t last_stream = 0;
  while (!input.empty()) {
    size_t n = std::min(chunk, input.size());
    decoder.feed(input.substr(0, n));
    input.remove_prefix(n);
    while (auto frame = decoder.next()) {
      if (frame->oversize ||
          frame->header.type != static_cast<uint8_t>(reaper::shim::FrameType::request))
        continue;
      ::ttrpc::Request request;
      if (!request.ParseFromString(frame->payload)) continue;
      if (frame->header.stream_id % 2 != 1 || frame->header.stream_id <= last_stream) continue;
      last_stream = frame->header.stream_id;
      parse_task_request(request.method(), request.payload());
      std::string response = reaper::shim::encode_response(
          reaper::shim::rpc_error(reaper::shim::Code::unimplemented, "method {}", request.method()),
          "");
      ::ttrpc::Response back;
      if (!back.ParseFromString(response)) __builtin_trap();
    }
  }
  return 0;
}
