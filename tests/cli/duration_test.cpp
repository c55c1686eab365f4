#include "cli/duration.hpp"

#include <doctest/doctest.h>

#include <string>

using gprofid::cli::duration_error;
using gprofid::cli::parse_duration;

TEST_CASE("parse_duration accepts every unit") {
  CHECK(parse_duration("1500ns") == 1500);
  CHECK(parse_duration("250us") == 250'000);
  CHECK(parse_duration("100ms") == 100'000'000);
  CHECK(parse_duration("3s") == 3'000'000'000);
  CHECK(parse_duration("2m") == 120'000'000'000);
  CHECK(parse_duration("1h") == 3'600'000'000'000);
}

TEST_CASE("parse_duration accepts fractions") {
  CHECK(parse_duration("1.5s") == 1'500'000'000);
  CHECK(parse_duration("0.5ms") == 500'000);
  CHECK(parse_duration(".25s") == 250'000'000);
}

TEST_CASE("parse_duration rejects bad text with a message naming the problem") {
  auto message = [](const char* text) {
    try {
      parse_duration(text);
    } catch (const duration_error& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  CHECK(message("10").find("missing unit") != std::string::npos);
  CHECK(message("3x").find("unknown unit \"x\"") != std::string::npos);
  CHECK(message("").find("empty") != std::string::npos);
  CHECK(message("ms").find("expected a number") != std::string::npos);
  CHECK(message("-1s").find("expected a number") != std::string::npos);
  CHECK(message("0s").find("at least 1ns") != std::string::npos);
  CHECK(message("1.2.3s") != "(accepted)");
  CHECK(message("1 s") != "(accepted)");
  CHECK(message("99999999999h").find("too large") != std::string::npos);
  CHECK(message("3x").find("\"3x\"") != std::string::npos);
}
