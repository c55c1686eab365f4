// Decoding recording format v2 payloads (docs/recording-format.md "Version 2"): a cursor that
// never reads past its payload and turns every problem into a decode_error at a byte position,
// and the tagged-field loop. Shared by the v2 reader's parts; private to the analysis library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "gprofid/recording/recording_format_v2.hpp"
#include "gprofid/recording/varint.hpp"

namespace gprofid::v2_decode {

namespace v2 = recording_format_v2;

// A problem at byte `at` of the payload being decoded; the reader adds file and offset.
struct decode_error {
  std::string message;
  std::size_t at;
};

inline std::int64_t wrapping_add(std::int64_t a, std::int64_t b) noexcept {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
}

inline std::int64_t wrapping_sub(std::int64_t a, std::int64_t b) noexcept {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) - static_cast<std::uint64_t>(b));
}

// Reads varints and byte strings from a payload, never past its end.
class cursor {
 public:
  explicit cursor(std::string_view payload)
      : begin_(reinterpret_cast<const std::uint8_t*>(payload.data())),
        p_(begin_),
        end_(begin_ + payload.size()) {}

  // Most values of a record take one byte: that case is inline, the rest a call.
  std::uint64_t u(const char* what) {
    if (p_ != end_ && *p_ < 0x80) [[likely]]
      return *p_++;
    return u_long(what);
  }
  std::int64_t s(const char* what) { return varint::unzigzag(u(what)); }
  std::uint64_t u(const char* what, std::uint64_t max) {
    const std::size_t at = pos();
    const std::uint64_t v = u(what);
    if (v > max) [[unlikely]]
      out_of_range(what, v, at);
    return v;
  }
  // A count of items of at least `min_bytes` each: never more than the bytes left could hold,
  // so no count read from the file makes the reader allocate or loop beyond the file's size.
  std::uint64_t count(const char* what, std::size_t min_bytes) {
    const std::size_t at = pos();
    const std::uint64_t n = u(what);
    if (n > remaining() / min_bytes) {
      throw decode_error{std::string(what) + " " + std::to_string(n) + " cannot fit in the " +
                             std::to_string(remaining()) + " bytes left of the block",
                         at};
    }
    return n;
  }
  std::string_view bytes(const char* what) {
    const std::size_t at = pos();
    const std::uint64_t n = u(what);
    if (n > remaining()) {
      throw decode_error{
          std::string(what) + ": length " + std::to_string(n) + " runs past the end of the block",
          at};
    }
    std::string_view s(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return s;
  }
  std::size_t remaining() const noexcept { return static_cast<std::size_t>(end_ - p_); }
  bool done() const noexcept { return p_ == end_; }
  std::size_t pos() const noexcept { return pos(p_); }
  std::size_t pos(const std::uint8_t* at) const noexcept {
    return static_cast<std::size_t>(at - begin_);
  }

 private:
  [[gnu::noinline]] std::uint64_t u_long(const char* what) {
    std::uint64_t v = 0;
    const std::uint8_t* at = p_;
    switch (varint::read(p_, end_, v)) {
      case varint::status::ok:
        return v;
      case varint::status::truncated:
        throw decode_error{std::string(what) + ": varint runs past the end of the block", pos(at)};
      case varint::status::overflow:
        throw decode_error{std::string(what) + ": varint overflows 64 bits", pos(at)};
    }
    return v;
  }
  [[noreturn, gnu::noinline]] static void out_of_range(const char* what, std::uint64_t v,
                                                       std::size_t at) {
    throw decode_error{std::string(what) + " " + std::to_string(v) + " is out of range", at};
  }

  const std::uint8_t* begin_;
  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

// Tagged fields: calls fn(field, wire, cursor) for each; fn reads varint values itself and
// returns false for a field it does not know, which is then skipped.
template <class Fn>
inline void for_each_tagged(cursor& c, Fn&& fn) {
  while (!c.done()) {
    const std::size_t at = c.pos();
    const std::uint64_t key = c.u("field key");
    const auto wire = static_cast<std::uint8_t>(key & 7);
    if (wire != v2::wire::varint && wire != v2::wire::bytes) {
      throw decode_error{"unknown wire type " + std::to_string(wire), at};
    }
    if (fn(key >> 3, wire, c)) continue;
    if (wire == v2::wire::varint) {
      c.u("unknown field");
    } else {
      c.bytes("unknown field");
    }
  }
}

}  // namespace gprofid::v2_decode
