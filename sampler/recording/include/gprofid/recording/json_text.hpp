// Fast JSON text building for recordings: string escaping that never fails on bad UTF-8
// (invalid bytes become U+FFFD, as nlohmann's error_handler_t::replace does) and integers.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace gprofid {

// Appends `s` as a quoted JSON string, byte for byte as nlohmann's dump() with
// error_handler_t::replace: one U+FFFD per maximal invalid subpart, \b \f \n \r \t short.
void append_json_string(std::string& out, std::string_view s);

// `s` with every invalid UTF-8 sequence replaced by U+FFFD, as append_json_string does.
std::string sanitize_utf8(std::string_view s);

template <class Int>
void append_json_int(std::string& out, Int v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// Appends `"key":` (keys are fixed ASCII identifiers, never escaped).
inline void append_json_key(std::string& out, std::string_view key) {
  out += '"';
  out += key;
  out += "\":";
}

}  // namespace gprofid
