#include "cli/number_option.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>

using gprofid::cli::number_error;
using gprofid::cli::parse_whole_number;

namespace {

std::string message(const char* text, std::int64_t lo, std::int64_t hi) {
  try {
    parse_whole_number(text, lo, hi);
  } catch (const number_error& e) {
    return e.what();
  }
  return "(accepted)";
}

}  // namespace

TEST_CASE("parse_whole_number takes decimal integers within the range") {
  CHECK(parse_whole_number("1", 1, 1024) == 1);
  CHECK(parse_whole_number("1024", 1, 1024) == 1024);
  CHECK(parse_whole_number("-3", -10, 10) == -3);
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  CHECK(parse_whole_number("9223372036854775807", 0, max) == max);
}

TEST_CASE("parse_whole_number rejects what CLI11 would wrap, saturate or reinterpret") {
  CHECK(message("-1", 1, 1024).find("out of range (want a whole number from 1 to 1024)") !=
        std::string::npos);
  CHECK(message("100000", 1, 1024).find("out of range") != std::string::npos);
  CHECK(message("99999999999999999999", 0, 10).find("out of range") != std::string::npos);
  for (const char* text : {"1e20", "1.5", "0x10", "+3", " 3", "3 ", "", "ten", "--1"}) {
    CAPTURE(text);
    CHECK(message(text, 0, 1000).find("is not a whole number") != std::string::npos);
  }
  // A leading 0 is decimal, not octal as strtoull(base 0) would read it.
  CHECK(parse_whole_number("010", 0, 100) == 10);
}
