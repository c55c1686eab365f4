// LEB128 varints and zigzag signed integers, the integer encoding of recording format v2
// (docs/recording-format.md): small values take one byte, and decoding never reads past the
// end of its input or accepts more than 64 bits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace gprofid::varint {

inline constexpr std::size_t max_bytes = 10;  // ceil(64 / 7)

// Signed to unsigned so that values near zero stay short: 0, -1, 1, -2 -> 0, 1, 2, 3.
constexpr std::uint64_t zigzag(std::int64_t v) noexcept {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
constexpr std::int64_t unzigzag(std::uint64_t u) noexcept {
  return static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
}

// Writes v at `out` (room for max_bytes); returns the bytes written.
inline std::size_t encode(char* out, std::uint64_t v) noexcept {
  std::size_t n = 0;
  while (v >= 0x80) {
    out[n++] = static_cast<char>(static_cast<std::uint8_t>(v) | 0x80);
    v >>= 7;
  }
  out[n++] = static_cast<char>(v);
  return n;
}

inline void append(std::string& out, std::uint64_t v) {
  char buf[max_bytes];
  out.append(buf, encode(buf, v));
}

inline void append_signed(std::string& out, std::int64_t v) {
  append(out, zigzag(v));
}

enum class status : std::uint8_t { ok, truncated, overflow };

// Decodes one varint at `p` (advancing it) without reading at or past `end`. overflow: more
// than 64 bits of value, or more than max_bytes bytes.
inline status read(const std::uint8_t*& p, const std::uint8_t* end, std::uint64_t& out) noexcept {
  std::uint64_t v = 0;
  for (unsigned shift = 0; shift < 64; shift += 7) {
    if (p == end) return status::truncated;
    const std::uint8_t b = *p++;
    // The tenth byte holds bit 63 only.
    if (shift == 63 && b > 1) return status::overflow;
    v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
    if (b < 0x80) {
      out = v;
      return status::ok;
    }
  }
  return status::overflow;
}

}  // namespace gprofid::varint
