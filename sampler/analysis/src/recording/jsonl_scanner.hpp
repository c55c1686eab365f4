// The scanner of the v1 reader's fast path (jsonl_fast_sample.cpp, jsonl_fast_objects.cpp):
// JSON read in place, accepting only what nlohmann's DOM parser accepts with the same values;
// on anything else it gives up (returns false) and the DOM path reads the line, with its
// precise errors.
#pragma once

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>
#include <system_error>

#include "gprofid/recording/json_text.hpp"

namespace gprofid::jsonl_fast {

// Thrown nowhere: every function returns false to give up, and the caller falls back.
class scanner {
 public:
  explicit scanner(std::string_view s) : p_(s.data()), end_(s.data() + s.size()) {}

  void ws() noexcept {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\r' || *p_ == '\n')) ++p_;
  }
  bool eat(char c) noexcept {
    ws();
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }
  bool peek(char c) noexcept {
    ws();
    return p_ != end_ && *p_ == c;
  }
  bool at_end() noexcept {
    ws();
    return p_ == end_;
  }

  // The next member's key and its colon when they are exactly `quoted` ("\"id\":", as the
  // writer puts them): one comparison instead of a scan and a lookup. Nothing is consumed
  // otherwise.
  bool key(std::string_view quoted) noexcept {
    ws();
    const std::size_t n = quoted.size();
    if (static_cast<std::size_t>(end_ - p_) < n) return false;
    if (n >= 8 && n <= 16) {
      // Keys are short: two overlapping 8-byte words, not a call to memcmp.
      std::uint64_t a0, a1, b0, b1;
      std::memcpy(&a0, p_, 8);
      std::memcpy(&a1, p_ + n - 8, 8);
      std::memcpy(&b0, quoted.data(), 8);
      std::memcpy(&b1, quoted.data() + n - 8, 8);
      if (((a0 ^ b0) | (a1 ^ b1)) != 0) return false;
    } else if (std::memcmp(p_, quoted.data(), n) != 0) {
      return false;
    }
    p_ += quoted.size();
    return true;
  }

  // Where the scanner is, to come back to (a span that was skipped, then needed).
  const char* position() const noexcept { return p_; }
  void rewind(const char* p) noexcept { p_ = p; }

  // true or false.
  bool boolean(bool& v) noexcept {
    ws();
    if (literal("true")) {
      v = true;
      return true;
    }
    v = false;
    return literal("false");
  }

  // A hex string like "0x4a1f20", as the DOM path's parse_hex reads it (an overflow: give up).
  bool hex(std::uint64_t& v) noexcept {
    std::string_view s;
    if (!string(s) || s.size() < 3 || s[0] != '0' || s[1] != 'x') return false;
    const auto [ptr, ec] = std::from_chars(s.data() + 2, s.data() + s.size(), v, 16);
    return ec == std::errc() && ptr == s.data() + s.size();
  }

  // A string without escapes or control characters, valid UTF-8. Plain ASCII is scanned by
  // table, a byte at a time with one load and one test (the hot loop of a v1 sample line).
  bool string(std::string_view& out) noexcept {
    if (!eat('"')) return false;
    const char* b = p_;
    bool ascii = true;
    while (p_ != end_) {
      const auto c = static_cast<unsigned char>(*p_);
      if (!special[c]) {
        ++p_;
        continue;
      }
      if (c == '"') break;
      if (c == '\\' || c < 0x20) return false;
      ascii = false;  // a byte of a multi-byte sequence: checked below
      ++p_;
    }
    if (p_ == end_) return false;
    out = std::string_view(b, static_cast<std::size_t>(p_ - b));
    ++p_;
    return ascii || sanitize_utf8(out) == out;
  }

  // JSON integers as nlohmann reads them: no sign for unsigned, no leading zeros, no fraction
  // or exponent (which would make it a float), in range.
  bool uint(std::uint64_t& v) noexcept {
    ws();
    return digits(v) && !number_continues();
  }
  bool sint(std::int64_t& v) noexcept {
    ws();
    const bool neg = p_ != end_ && *p_ == '-';
    if (neg) ++p_;
    std::uint64_t u = 0;
    if (!digits(u) || number_continues()) return false;
    const std::uint64_t max = std::uint64_t(std::numeric_limits<std::int64_t>::max());
    if (neg) {
      if (u > max + 1) return false;
      v = u == max + 1 ? std::numeric_limits<std::int64_t>::min() : -static_cast<std::int64_t>(u);
    } else {
      if (u > max) return false;
      v = static_cast<std::int64_t>(u);
    }
    return true;
  }

  // Skips one value of a field the reader does not know, validating it as strictly as the DOM
  // parser would (when in doubt: give up).
  bool skip_value(int depth = 0) noexcept {
    if (depth > 32) return false;
    ws();
    if (p_ == end_) return false;
    std::string_view s;
    std::int64_t i = 0;
    switch (*p_) {
      case '"':
        return string(s);
      case '{':
        ++p_;
        if (eat('}')) return true;
        do {
          if (!string(s) || !eat(':') || !skip_value(depth + 1)) return false;
        } while (eat(','));
        return eat('}');
      case '[':
        ++p_;
        if (eat(']')) return true;
        do {
          if (!skip_value(depth + 1)) return false;
        } while (eat(','));
        return eat(']');
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        return sint(i);
    }
  }

 private:
  bool digits(std::uint64_t& v) noexcept {
    if (p_ == end_ || *p_ < '0' || *p_ > '9') return false;
    if (*p_ == '0' && p_ + 1 != end_ && p_[1] >= '0' && p_[1] <= '9') return false;
    // 19 digits always fit in 64 bits; a 20th may overflow, which is checked.
    std::uint64_t x = 0;
    int n = 0;
    for (; p_ != end_ && *p_ >= '0' && *p_ <= '9'; ++p_, ++n) {
      const auto d = static_cast<std::uint64_t>(*p_ - '0');
      if (n >= 19 && (x > (UINT64_MAX - d) / 10)) return false;
      x = x * 10 + d;
    }
    v = x;
    return true;
  }
  bool number_continues() const noexcept {
    return p_ != end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E');
  }
  bool literal(std::string_view word) noexcept {
    if (static_cast<std::size_t>(end_ - p_) < word.size() ||
        std::string_view(p_, word.size()) != word)
      return false;
    p_ += word.size();
    return true;
  }

  // The bytes string() stops at: '"', '\\', control characters and non-ASCII.
  static constexpr auto special = [] {
    std::array<bool, 256> t{};
    for (int c = 0; c < 256; ++c) t[c] = c == '"' || c == '\\' || c < 0x20 || c >= 0x80;
    return t;
  }();

  const char* p_;
  const char* end_;
};

// Each field at most once: nlohmann keeps the last of duplicate keys, we would keep the first.
class seen_fields {
 public:
  bool first(int bit) noexcept {
    if (bits_ & (1u << bit)) return false;
    bits_ |= 1u << bit;
    return true;
  }
  bool all(unsigned mask) const noexcept { return (bits_ & mask) == mask; }

 private:
  unsigned bits_ = 0;
};

// The next member's field among `quoted` (keys with their quotes and colon, in the writer's
// order): tried in that order from `from`, past the fields in `optional` (a bit per field) the
// writer may leave out, then looked up by name. quoted.size() for a key not among them; -1 when
// malformed.
template <std::size_t N>
int next_field(scanner& sc, const std::array<std::string_view, N>& quoted, int from,
               unsigned optional) noexcept {
  constexpr int n = static_cast<int>(N);
  for (int f = from; f < n; ++f) {
    if (sc.key(quoted[static_cast<std::size_t>(f)])) return f;
    if (!(optional & (1u << f))) break;
  }
  std::string_view name;
  if (!sc.string(name) || !sc.eat(':')) return -1;
  for (int f = 0; f < n; ++f) {
    const std::string_view q = quoted[static_cast<std::size_t>(f)];
    if (name == q.substr(1, q.size() - 3)) return f;
  }
  return n;
}

}  // namespace gprofid::jsonl_fast
