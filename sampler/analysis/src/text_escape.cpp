#include "gprofid/analysis/text_escape.hpp"

#include <cstdint>

namespace gprofid {
namespace {

// Length of the valid UTF-8 sequence starting at s[i] (1..4), or 0 when it is invalid
// (bad lead byte, truncated, overlong, surrogate or beyond U+10FFFF). Sets `cp`.
std::size_t utf8_sequence(std::string_view s, std::size_t i, std::uint32_t& cp) noexcept {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  unsigned char c = b(0);
  std::size_t n;
  std::uint32_t min;
  if (c < 0x80) {
    cp = c;
    return 1;
  } else if ((c & 0xE0) == 0xC0) {
    n = 2, cp = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, cp = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

bool is_control(std::uint32_t cp) noexcept {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0);
}

void append_hex(std::string& out, unsigned char c) {
  constexpr char digits[] = "0123456789abcdef";
  out += "\\x";
  out += digits[c >> 4];
  out += digits[c & 0xF];
}

}  // namespace

bool is_plain_text(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size();) {
    std::uint32_t cp;
    std::size_t n = utf8_sequence(s, i, cp);
    if (n == 0 || is_control(cp)) return false;
    i += n;
  }
  return true;
}

std::string escape_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    std::uint32_t cp;
    std::size_t n = utf8_sequence(s, i, cp);
    if (n == 0) {
      append_hex(out, static_cast<unsigned char>(s[i]));
      ++i;
      continue;
    }
    if (!is_control(cp)) {
      out.append(s.substr(i, n));
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (n == 1) {
      append_hex(out, static_cast<unsigned char>(s[i]));
    } else {
      // A C1 control encoded as two bytes: show the code point, as terminals would act on it.
      append_hex(out, static_cast<unsigned char>(cp));
    }
    i += n;
  }
  return out;
}

}  // namespace gprofid
