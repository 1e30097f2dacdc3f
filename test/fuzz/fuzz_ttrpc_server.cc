// Fuzz target for the shim's ttrpc server as a peer on its socket sees it:
// raw bytes on a connection to the real Server with the task service
// registered (see server_harness.h). Framing, the Request envelope, stream
// id rules, dispatch by service and method, the decode of each task request
// and the answer path all run as in the shim; every request frame (and
// every oversize frame) gets exactly one answer. Seeds:
// test/fuzz/corpus/ttrpc_server/ (first byte: the write size).

#include "server_harness.h"

namespace {

// How many answers the server owes for `stream`.
size_t owed_answers(std::string_view stream) {
  reaper::shim::FrameDecoder decoder;
  decoder.feed(stream);
  size_t n = 0;
  while (auto frame = decoder.next()) {
    if (frame->oversize ||
        frame->header.type == static_cast<uint8_t>(reaper::shim::FrameType::request))
      ++n;
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static reaper::fuzz::ServerHarness harness;
  if (size == 0) return 0;
  size_t chunk = 8 * (1 + data[0] % 128);
  auto stream = reaper::fuzz::as_text(data + 1, size - 1);
  harness.exchange(stream, chunk);
  reaper::fuzz::check(harness.answered() == owed_answers(stream));
  return 0;
}
