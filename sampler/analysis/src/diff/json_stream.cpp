#include "json_stream.hpp"

#include <nlohmann/json.hpp>

namespace gprofid::json_out {

void stream::append_string(std::string_view s) {
  bool plain = true, ascii = true;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    plain &= c >= 0x20 && c != '"' && c != '\\';
    ascii &= c < 0x80;
  }
  if (plain && ascii) {  // nearly every name: copied as it is
    buf_ += '"';
    buf_ += s;
    buf_ += '"';
    return;
  }
  if (!ascii && sanitize_utf8(s) != s) {
    // Not UTF-8: nlohmann's own rules say where each U+FFFD goes.
    buf_ += nlohmann::json(std::string(s))
                .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return;
  }
  static constexpr char hex[] = "0123456789abcdef";
  buf_ += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        buf_ += "\\\"";
        break;
      case '\\':
        buf_ += "\\\\";
        break;
      case '\b':
        buf_ += "\\b";
        break;
      case '\f':
        buf_ += "\\f";
        break;
      case '\n':
        buf_ += "\\n";
        break;
      case '\r':
        buf_ += "\\r";
        break;
      case '\t':
        buf_ += "\\t";
        break;
      default:
        if (c < 0x20) {
          buf_ += "\\u00";
          buf_ += hex[c >> 4];
          buf_ += hex[c & 0xF];
        } else {
          buf_ += ch;  // UTF-8 is written as it is (ensure_ascii off)
        }
    }
  }
  buf_ += '"';
}

}  // namespace gprofid::json_out
