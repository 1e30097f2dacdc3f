#include <doctest/doctest.h>

#include <string>

#include "shim/frame.h"
#include "shim/rpc.h"
#include "ttrpc.pb.h"

using namespace reaper::shim;

namespace {

std::string bytes(std::initializer_list<int> list) {
  std::string out;
  for (int b : list) out.push_back(static_cast<char>(b));
  return out;
}

std::string frame(uint32_t stream, FrameType type, std::string_view payload, uint8_t flags = 0) {
  std::string out;
  append_frame(out, stream, type, flags, payload);
  return out;
}

}  // namespace

TEST_CASE("frame header is 10 big-endian bytes") {
  std::string f = frame(0x01020305, FrameType::response, "xyz", frame_flags::remote_closed);
  CHECK(f == bytes({0, 0, 0, 3, 1, 2, 3, 5, 2, 1}) + "xyz");
  FrameHeader h = decode_frame_header(f.data());
  CHECK(h == FrameHeader{3, 0x01020305, 2, 1});

  char buf[frame_header_size];
  encode_frame_header(FrameHeader{0xfffffffe, 0x80000001, 3, 4}, buf);
  CHECK(std::string(buf, sizeof buf) == bytes({0xff, 0xff, 0xff, 0xfe, 0x80, 0, 0, 1, 3, 4}));
  CHECK(decode_frame_header(buf) == FrameHeader{0xfffffffe, 0x80000001, 3, 4});
}

TEST_CASE("decoder yields whole frames, several per feed") {
  FrameDecoder d;
  d.feed(frame(1, FrameType::request, "one") + frame(3, FrameType::request, "") +
         frame(5, FrameType::data, "3"));
  auto a = d.next();
  REQUIRE(a);
  CHECK(a->header.stream_id == 1);
  CHECK(a->payload == "one");
  CHECK_FALSE(a->oversize);
  auto b = d.next();
  REQUIRE(b);
  CHECK(b->header.stream_id == 3);
  CHECK(b->payload.empty());
  auto c = d.next();
  REQUIRE(c);
  CHECK(c->header.type == static_cast<uint8_t>(FrameType::data));
  CHECK_FALSE(d.next());
  CHECK_FALSE(d.mid_frame());
}

TEST_CASE("decoder reassembles frames split across reads, byte by byte") {
  std::string wire =
      frame(7, FrameType::request, std::string(300, 'p')) + frame(9, FrameType::request, "q");
  FrameDecoder d;
  std::vector<Frame> got;
  for (char c : wire) {
    d.feed(std::string_view(&c, 1));
    while (auto f = d.next()) got.push_back(std::move(*f));
  }
  REQUIRE(got.size() == 2);
  CHECK(got[0].payload == std::string(300, 'p'));
  CHECK(got[1].header.stream_id == 9);
  CHECK_FALSE(d.mid_frame());
}

TEST_CASE("a truncated frame stays pending") {
  std::string wire = frame(1, FrameType::request, "abcdef");
  FrameDecoder d;
  d.feed(std::string_view(wire).substr(0, 4));  // half a header
  CHECK_FALSE(d.next());
  CHECK(d.mid_frame());
  d.feed(std::string_view(wire).substr(4, 8));  // header and part of the payload
  CHECK_FALSE(d.next());
  CHECK(d.mid_frame());
  d.feed(std::string_view(wire).substr(12));
  auto f = d.next();
  REQUIRE(f);
  CHECK(f->payload == "abcdef");
  CHECK_FALSE(d.mid_frame());
}

TEST_CASE("an oversize frame is reported at once and its payload skipped as it arrives") {
  FrameDecoder d(16);  // a small limit keeps the test small
  std::string big = frame(11, FrameType::request, std::string(100, 'B'));
  std::string next = frame(13, FrameType::request, "ok");

  d.feed(std::string_view(big).substr(0, 30));  // header + 20 of 100 payload bytes
  auto f = d.next();
  REQUIRE(f);
  CHECK(f->oversize);
  CHECK(f->header.stream_id == 11);
  CHECK(f->header.length == 100);
  CHECK(f->payload.empty());
  CHECK(d.mid_frame());
  CHECK_FALSE(d.next());

  d.feed(std::string_view(big).substr(30, 50));
  CHECK_FALSE(d.next());
  d.feed(std::string(big).substr(80) + next);  // the end of the big one and the next frame
  auto g = d.next();
  REQUIRE(g);
  CHECK_FALSE(g->oversize);
  CHECK(g->header.stream_id == 13);
  CHECK(g->payload == "ok");
}

TEST_CASE("the real limit is 4 MiB") {
  FrameDecoder d;
  char header[frame_header_size];
  encode_frame_header(FrameHeader{frame_max_payload, 1, 1, 0}, header);
  d.feed(std::string_view(header, sizeof header));
  CHECK_FALSE(d.next());  // exactly 4 MiB is allowed: waits for the payload
  FrameDecoder e;
  encode_frame_header(FrameHeader{frame_max_payload + 1, 1, 1, 0}, header);
  e.feed(std::string_view(header, sizeof header));
  auto f = e.next();
  REQUIRE(f);
  CHECK(f->oversize);
}

TEST_CASE("an OK response carries an empty status: 0a 00") {
  CHECK(encode_response(RpcStatus{}, "") == bytes({0x0a, 0x00}));
  CHECK(encode_response(RpcStatus{}, "\x08\x01") == bytes({0x0a, 0x00, 0x12, 0x02, 0x08, 0x01}));
}

TEST_CASE("an error response carries code and message") {
  std::string wire = encode_response(rpc_error(Code::unimplemented, "method {}", "Nope"), "");
  ::ttrpc::Response r;
  REQUIRE(r.ParseFromString(wire));
  CHECK(r.has_status());
  CHECK(r.status().code() == 12);
  CHECK(r.status().message() == "method Nope");
  CHECK(r.payload().empty());
  // field 1 (len 15): field 1 varint 12, field 2 "method Nope"
  CHECK(wire == bytes({0x0a, 0x0f, 0x08, 0x0c, 0x12, 0x0b}) + "method Nope");
}

TEST_CASE("core errors map to RPC codes by errno") {
  CHECK(to_rpc_status(reaper::Error(ENOENT, "x")).code == Code::not_found);
  CHECK(to_rpc_status(reaper::Error(ESRCH, "x")).code == Code::not_found);
  CHECK(to_rpc_status(reaper::Error(EEXIST, "x")).code == Code::already_exists);
  CHECK(to_rpc_status(reaper::Error(EINVAL, "x")).code == Code::invalid_argument);
  CHECK(to_rpc_status(reaper::Error(EBUSY, "x")).code == Code::failed_precondition);
  CHECK(to_rpc_status(reaper::Error(0, "x")).code == Code::unknown);
  CHECK(to_rpc_status(reaper::Error(ENOENT, "open `y`")).message ==
        "open `y`: No such file or directory");
  CHECK(rpc_error(Code::not_found, "container {}", "c1").what() == "NotFound: container c1");
}

TEST_CASE("ttrpc.Request field numbers") {
  ::ttrpc::Request req;
  req.set_service("s");
  req.set_method("m");
  req.set_payload("p");
  req.set_timeout_nano(5);
  auto* kv = req.add_metadata();
  kv->set_key("k");
  kv->set_value("v");
  CHECK(req.SerializeAsString() == bytes({0x0a, 1, 's', 0x12, 1, 'm', 0x1a, 1, 'p', 0x20, 5, 0x2a,
                                          6, 0x0a, 1, 'k', 0x12, 1, 'v'}));
}
