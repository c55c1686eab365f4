// Tagged fields of recording format v2 (docs/recording-format.md "Tagged fields"): `varint key`
// (field << 3 | wire) and a value, as the encoder writes them for the header, the end block,
// goroutine extensions, a sample's trailing fields and wait objects.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "gprofid/recording/recording_format_v2.hpp"
#include "gprofid/recording/varint.hpp"

namespace gprofid::v2_tagged {

inline void append_key(std::string& out, std::uint32_t field, std::uint8_t wire) {
  varint::append(out, (static_cast<std::uint64_t>(field) << 3) | wire);
}
inline void append_unsigned(std::string& out, std::uint32_t field, std::uint64_t v) {
  append_key(out, field, recording_format_v2::wire::varint);
  varint::append(out, v);
}
inline void append_signed(std::string& out, std::uint32_t field, std::int64_t v) {
  append_key(out, field, recording_format_v2::wire::varint);
  varint::append_signed(out, v);
}
// A bytes field whose value is `bytes`, as given.
inline void append_bytes(std::string& out, std::uint32_t field, std::string_view bytes) {
  append_key(out, field, recording_format_v2::wire::bytes);
  varint::append(out, bytes.size());
  out += bytes;
}

}  // namespace gprofid::v2_tagged
