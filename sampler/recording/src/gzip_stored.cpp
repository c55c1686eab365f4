#include "gprofid/recording/gzip_stored.hpp"

#include <algorithm>
#include <cstdint>

#include "gprofid/recording/crc32c.hpp"

namespace gprofid {
namespace {

void put_le(std::string& out, std::uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

}  // namespace

std::string gzip_stored(std::string_view data) {
  constexpr std::size_t block_max = 65535;  // LEN is 16 bits
  std::string out;
  out.reserve(data.size() + 18 + 5 * (data.size() / block_max + 1));
  // ID1 ID2, CM 8 (deflate), FLG 0, MTIME 0 (none), XFL 0, OS 255 (unknown), as Go writes it.
  out.append("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", 10);
  std::size_t at = 0;
  do {
    const std::size_t n = std::min(block_max, data.size() - at);
    const bool last = at + n == data.size();
    // BFINAL, BTYPE 00, then the block is byte-aligned: LEN, NLEN (its complement), the bytes.
    out += static_cast<char>(last ? 1 : 0);
    put_le(out, static_cast<std::uint32_t>(n), 2);
    put_le(out, static_cast<std::uint32_t>(~n & 0xFFFF), 2);
    out.append(data.substr(at, n));
    at += n;
  } while (at < data.size());
  put_le(out, crc32_ieee(0, data.data(), data.size()), 4);
  put_le(out, static_cast<std::uint32_t>(data.size() & 0xFFFFFFFF), 4);  // ISIZE: mod 2^32
  return out;
}

}  // namespace gprofid
