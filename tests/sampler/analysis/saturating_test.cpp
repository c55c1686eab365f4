#include "gprofid/saturating.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>

namespace gprofid {
namespace {

constexpr auto max = std::numeric_limits<std::int64_t>::max();
constexpr auto min = std::numeric_limits<std::int64_t>::min();

TEST_CASE("saturating arithmetic is exact in range and clamps at the int64 limits") {
  CHECK(saturating_sub(10, 3) == 7);
  CHECK(saturating_add(std::int64_t{-4}, std::int64_t{9}) == 5);
  // A span from -9e18 to 9e18 ns (1.8e19) is the largest there is, not 1000 after wrapping.
  CHECK(saturating_sub(9'000'000'000'000'000'000, -9'000'000'000'000'000'000) == max);
  CHECK(saturating_sub(-9'000'000'000'000'000'000, 9'000'000'000'000'000'000) == min);
  CHECK(saturating_sub(0, min) == max);
  CHECK(saturating_add(max, std::int64_t{1}) == max);
  CHECK(saturating_add(min, std::int64_t{-1}) == min);
  CHECK(saturating_add(std::numeric_limits<std::uint64_t>::max(), std::uint64_t{1}) ==
        std::numeric_limits<std::uint64_t>::max());
  CHECK(saturating_mul(std::int64_t{1} << 40, std::int64_t{1} << 40) == max);
  CHECK(saturating_mul(-(std::int64_t{1} << 40), std::int64_t{1} << 40) == min);
  CHECK(saturating_mul(std::int64_t{-3}, std::int64_t{4}) == -12);
  CHECK(saturating_int64(std::uint64_t{42}) == 42);
  CHECK(saturating_int64(std::numeric_limits<std::uint64_t>::max()) == max);  // never negative
  CHECK(saturating_int64(std::uint64_t{1} << 63) == max);
  static_assert(saturating_sub(5, 2) == 3, "usable in constant expressions");
}

}  // namespace
}  // namespace gprofid
