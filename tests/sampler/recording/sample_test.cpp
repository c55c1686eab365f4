#include "gprofid/recording/sample.hpp"

#include <doctest/doctest.h>

namespace gprofid {
namespace {

TEST_CASE("find_goroutine looks up by id in a sorted sample") {
  sample s;
  for (std::uint64_t id : {1, 4, 9}) s.goroutines.push_back({.id = id});
  REQUIRE(find_goroutine(s, 4));
  CHECK(find_goroutine(s, 4)->id == 4);
  CHECK(find_goroutine(s, 5) == nullptr);
  CHECK(find_goroutine(s, 10) == nullptr);
}

}  // namespace
}  // namespace gprofid
