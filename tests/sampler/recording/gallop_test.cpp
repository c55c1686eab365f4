// gallop_lower_bound (sampler/recording/src/gallop.hpp): lookups in increasing order that start
// where the previous one ended find what std::lower_bound finds from the start.
#include "sampler/recording/src/gallop.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

namespace gprofid {
namespace {

TEST_CASE("gallop_lower_bound: sorted lookups from the previous hit equal std::lower_bound") {
  std::mt19937_64 rng(13);
  const auto less = [](std::uint64_t a, std::uint64_t b) { return a < b; };
  for (const std::size_t n : {0, 1, 2, 3, 7, 64, 1000}) {
    std::vector<std::uint64_t> v(n);
    for (auto& x : v) x = rng() % (4 * n + 1);
    std::sort(v.begin(), v.end());
    // Dense (every key), sparse and repeated lookups, and keys past either end.
    for (const std::uint64_t step : {1, 3, 97}) {
      auto from = v.begin();
      for (std::uint64_t key = 0; key <= 4 * n + 2; key += step) {
        for (int again = 0; again < 2; ++again) {
          from = detail::gallop_lower_bound(from, v.end(), key, less);
          CHECK(from == std::lower_bound(v.begin(), v.end(), key, less));
        }
      }
    }
  }
}

}  // namespace
}  // namespace gprofid
