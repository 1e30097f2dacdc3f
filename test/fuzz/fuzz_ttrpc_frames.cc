// Fuzz target for the ttrpc frame stream as the shim reads it from a peer
// (containerd on the server side, containerd's event service on the client
// side): the stream is cut into reads at arbitrary points, every complete
// frame must come out exactly as it went in, oversize frames are skipped
// without being buffered, and the ttrpc.Request / ttrpc.Response envelopes
// inside are decoded. Seeds: test/fuzz/corpus/ttrpc_frames/ (first byte: the
// read size).

#include <google/protobuf/stubs/logging.h>

#include <algorithm>

#include "fuzz_support.h"
#include "shim/frame.h"
#include "shim/rpc.h"
#include "ttrpc.pb.h"

using reaper::fuzz::check;
namespace shim = reaper::shim;

namespace {

// A small limit, so that the oversize path is reached by small inputs.
constexpr uint32_t max_payload = 1 << 12;

void decode_envelope(const shim::Frame& frame) {
  if (frame.header.type == static_cast<uint8_t>(shim::FrameType::request)) {
    ::ttrpc::Request request;
    if (!request.ParseFromString(frame.payload)) return;
    // What the server answers for an unknown method must itself decode.
    std::string response = shim::encode_response(
        shim::rpc_error(shim::Code::unimplemented, "method {}", request.method()), "");
    ::ttrpc::Response back;
    check(back.ParseFromString(response));
    check(back.status().message() == "method " + request.method());
  } else if (frame.header.type == static_cast<uint8_t>(shim::FrameType::response)) {
    ::ttrpc::Response response;
    if (!response.ParseFromString(frame.payload)) return;
    shim::RpcStatus status{static_cast<shim::Code>(response.status().code()),
                           response.status().message()};
    (void)status.what();  // any code, known or not, prints
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Invalid UTF-8 in a string field is an ordinary refusal here, not news.
  google::protobuf::SetLogHandler(
      [](google::protobuf::LogLevel, const char*, int, const std::string&) {});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the read size, so frames get split everywhere.
  size_t chunk = 1 + data[0] % 64;
  std::string_view input = reaper::fuzz::as_text(data + 1, size - 1);

  shim::FrameDecoder decoder(max_payload);
  std::string_view rest = input;
  size_t consumed = 0;  // bytes of `input` accounted for by the frames so far
  while (!rest.empty()) {
    size_t n = std::min(chunk, rest.size());
    decoder.feed(rest.substr(0, n));
    rest.remove_prefix(n);
    while (auto frame = decoder.next()) {
      const auto& h = frame->header;
      if (frame->oversize) {
        check(h.length > max_payload && frame->payload.empty());
      } else {
        check(h.length <= max_payload && frame->payload.size() == h.length);
        // The frame is exactly the bytes it came from.
        std::string again;
        shim::append_frame(again, h.stream_id, static_cast<shim::FrameType>(h.type), h.flags,
                           frame->payload);
        check(input.substr(consumed, again.size()) == again);
        decode_envelope(*frame);
      }
      consumed += shim::frame_header_size + h.length;
    }
  }
  // Whatever was not a complete frame is what the decoder still holds.
  check(decoder.mid_frame() == (consumed != input.size()));
  return 0;
}
