// append_json_string writes what nlohmann's dump() (error_handler_t::replace) writes, so a v1
// recording, the pair JSON and the summary JSON spell one string the same way.
#include "gprofid/recording/json_text.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace gprofid {
namespace {

std::string ours(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

std::string nlohmanns(std::string_view s) {
  return nlohmann::json(std::string(s))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

TEST_CASE("append_json_string escapes every single byte as nlohmann's dump does") {
  for (int c = 0; c < 256; ++c) {
    const std::string s(1, static_cast<char>(c));
    CAPTURE(c);
    CHECK(ours(s) == nlohmanns(s));
  }
  CHECK(ours("a\bb\fc") == R"("a\bb\fc")");
  CHECK(ours(std::string("\x01\x1f\x7f", 3)) == "\"\\u0001\\u001f\x7f\"");
}

TEST_CASE("append_json_string keeps valid UTF-8 and replaces invalid sequences with U+FFFD") {
  for (const std::string_view s :
       {"plain", "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", "tab\there \"q\" back\\slash", "\xC3",
        "a\xE2\x82", "\xE2\x82z", "\xF0\x9F\x98", "\xF0\x9F\x98!", "\xE0\x80\x80", "\xC0\xAF",
        "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xFF\xFE x"}) {
    CAPTURE(s);
    CHECK(ours(s) == nlohmanns(s));
    CHECK(nlohmann::json::parse(ours(s)).get<std::string>() == sanitize_utf8(s));
  }
}

}  // namespace
}  // namespace gprofid
