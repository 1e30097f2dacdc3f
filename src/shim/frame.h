#pragma once
// ttrpc framing. Every message on a ttrpc connection is a 10-byte header,
// all big-endian:
//   u32 payload length | u32 stream id | u8 type | u8 flags
// followed by the payload (a serialized ttrpc.Request or ttrpc.Response for
// unary calls). Payloads above 4 MiB are refused: the receiver discards the
// bytes and answers ResourceExhausted on that stream.
//
// FrameDecoder is the incremental, allocation-light reader used by both the
// server and the client: feed it whatever read() returned, then take
// complete frames out. It never needs more than one frame in memory and
// skips an oversize payload as it streams past, without buffering it.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace reaper::shim {

inline constexpr size_t frame_header_size = 10;
inline constexpr uint32_t frame_max_payload = 4U << 20;

enum class FrameType : uint8_t {
  request = 1,
  response = 2,
  data = 3,
};

namespace frame_flags {
inline constexpr uint8_t remote_closed = 1;
inline constexpr uint8_t remote_open = 2;
inline constexpr uint8_t no_data = 4;
}  // namespace frame_flags

struct FrameHeader {
  uint32_t length = 0;
  uint32_t stream_id = 0;
  uint8_t type = 0;  // a FrameType, kept raw: unknown types are ignored, not errors
  uint8_t flags = 0;

  bool operator==(const FrameHeader&) const = default;
};

void encode_frame_header(const FrameHeader& header, char out[frame_header_size]);
FrameHeader decode_frame_header(const char in[frame_header_size]);

// Appends one frame (header and payload) to `out`. The payload must not
// exceed frame_max_payload (callers check; this does not truncate).
void append_frame(std::string& out, uint32_t stream_id, FrameType type, uint8_t flags,
                  std::string_view payload);

struct Frame {
  FrameHeader header;
  std::string payload;
  // The announced length exceeded the limit: `payload` is empty and the
  // decoder is skipping the payload bytes. Answer ResourceExhausted.
  bool oversize = false;
};

class FrameDecoder {
 public:
  explicit FrameDecoder(uint32_t max_payload = frame_max_payload) : max_payload_(max_payload) {}

  // Adds bytes read from the connection.
  void feed(std::string_view bytes);

  // The next complete frame (or oversize notice), or nothing until more
  // bytes are fed.
  std::optional<Frame> next();

  // True while a frame is partly received (or an oversize payload partly
  // skipped). At EOF this means the peer closed in the middle of a frame.
  [[nodiscard]] bool mid_frame() const { return skip_ > 0 || offset_ < buffer_.size(); }

 private:
  void compact();

  uint32_t max_payload_;
  std::string buffer_;
  size_t offset_ = 0;  // start of unconsumed bytes in buffer_
  uint64_t skip_ = 0;  // bytes of an oversize payload still to discard
};

}  // namespace reaper::shim
