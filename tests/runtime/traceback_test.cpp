#include "gprofid/traceback.hpp"

#include <doctest/doctest.h>

namespace gprofid {
namespace {

TEST_CASE("format_duration picks the unit a person would, without rounding into 1000") {
  CHECK(format_duration(0) == "0ns");
  CHECK(format_duration(999) == "999ns");
  CHECK(format_duration(1'500) == "2us");
  CHECK(format_duration(999'499) == "999us");
  CHECK(format_duration(999'500) == "1ms");
  CHECK(format_duration(140'000'000) == "140ms");
  CHECK(format_duration(999'600'000) == "1.0s");
  CHECK(format_duration(2'500'000'000) == "2.5s");
  CHECK(format_duration(59'960'000'000) == "1m0s");
  CHECK(format_duration(190'000'000'000) == "3m10s");
  CHECK(format_duration(7'200'000'000'000) == "2h0m");
  CHECK(format_duration(-5) == "0ns");
}

}  // namespace
}  // namespace gprofid
