#pragma once
// SHA-256 (FIPS 180-4). Used to name shim sockets the way containerd's own
// shims do: the hex digest of a path. Small and dependency-free; not meant
// for bulk hashing speed.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace reaper {

class Sha256 {
 public:
  using Digest = std::array<uint8_t, 32>;

  Sha256();
  void update(std::string_view data);
  // Pads, returns the digest and leaves the object reset for reuse.
  Digest finish();

 private:
  void compress(const uint8_t* block);

  std::array<uint32_t, 8> h_{};
  std::array<uint8_t, 64> block_{};
  size_t block_len_ = 0;
  uint64_t total_len_ = 0;
};

Sha256::Digest sha256(std::string_view data);
// Lower-case hex of the digest (64 characters), like Go's fmt "%x".
std::string sha256_hex(std::string_view data);

}  // namespace reaper
