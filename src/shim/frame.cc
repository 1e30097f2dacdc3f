#include "shim/frame.h"

namespace reaper::shim {

namespace {

void put_be32(char* p, uint32_t v) {
  p[0] = static_cast<char>(v >> 24);
  p[1] = static_cast<char>(v >> 16);
  p[2] = static_cast<char>(v >> 8);
  p[3] = static_cast<char>(v);
}

uint32_t get_be32(const char* p) {
  auto b = [p](int i) { return static_cast<uint32_t>(static_cast<unsigned char>(p[i])); };
  return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

}  // namespace

void encode_frame_header(const FrameHeader& header, char out[frame_header_size]) {
  put_be32(out, header.length);
  put_be32(out + 4, header.stream_id);
  out[8] = static_cast<char>(header.type);
  out[9] = static_cast<char>(header.flags);
}

FrameHeader decode_frame_header(const char in[frame_header_size]) {
  return FrameHeader{
      .length = get_be32(in),
      .stream_id = get_be32(in + 4),
      .type = static_cast<uint8_t>(in[8]),
      .flags = static_cast<uint8_t>(in[9]),
  };
}

void append_frame(std::string& out, uint32_t stream_id, FrameType type, uint8_t flags,
                  std::string_view payload) {
  char header[frame_header_size];
  encode_frame_header(FrameHeader{static_cast<uint32_t>(payload.size()), stream_id,
                                  static_cast<uint8_t>(type), flags},
                      header);
  out.append(header, sizeof header);
  out.append(payload);
}

void FrameDecoder::feed(std::string_view bytes) {
  if (skip_ > 0) {
    size_t dropped = static_cast<size_t>(std::min<uint64_t>(skip_, bytes.size()));
    skip_ -= dropped;
    bytes.remove_prefix(dropped);
  }
  if (bytes.empty()) return;
  compact();
  buffer_.append(bytes);
}

std::optional<Frame> FrameDecoder::next() {
  if (skip_ > 0) return std::nullopt;
  size_t available = buffer_.size() - offset_;
  if (available < frame_header_size) return std::nullopt;
  FrameHeader header = decode_frame_header(buffer_.data() + offset_);

  if (header.length > max_payload_) {
    offset_ += frame_header_size;
    // Skip what is already buffered now, the rest as it arrives.
    size_t buffered = buffer_.size() - offset_;
    size_t dropped = static_cast<size_t>(std::min<uint64_t>(header.length, buffered));
    offset_ += dropped;
    skip_ = header.length - dropped;
    return Frame{header, {}, true};
  }

  if (available < frame_header_size + header.length) return std::nullopt;
  Frame frame{header, buffer_.substr(offset_ + frame_header_size, header.length), false};
  offset_ += frame_header_size + header.length;
  return frame;
}

void FrameDecoder::compact() {
  if (offset_ == 0) return;
  if (offset_ == buffer_.size()) {
    buffer_.clear();
  } else {
    buffer_.erase(0, offset_);
  }
  offset_ = 0;
}

}  // namespace reaper::shim
