// The set of ids met as runs (id_run_set): it agrees with a std::set for ids inserted in order,
// in reverse, at random and near the ends of the range, and consecutive ids stay one run.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <vector>

#include "gprofid/analysis/id_run_set.hpp"

namespace gprofid {
namespace {

void check_same(const id_run_set& s, const std::set<std::uint64_t>& m,
                const std::vector<std::uint64_t>& probe) {
  for (std::uint64_t id : probe) CHECK(s.contains(id) == (m.count(id) != 0));
  // At least as many runs as the ids need (runs that meet across a chunk boundary stay two).
  std::size_t runs = 0;
  std::uint64_t prev = 0;
  bool first = true;
  for (std::uint64_t id : m) {
    if (first || id != prev + 1) ++runs;
    prev = id;
    first = false;
  }
  CHECK(s.runs() >= runs);
}

TEST_CASE("consecutive ids are one run, whatever their number") {
  id_run_set s;
  CHECK(s.empty());
  CHECK(!s.contains(0));
  for (std::uint64_t id = 1; id <= 1'000'000; ++id) s.insert(id);
  CHECK(s.runs() == 1);
  CHECK(s.contains(1));
  CHECK(s.contains(1'000'000));
  CHECK(!s.contains(0));
  CHECK(!s.contains(1'000'001));
}

TEST_CASE("ids with gaps, inserted in order, in reverse and at random") {
  std::mt19937_64 rng(13);
  std::vector<std::uint64_t> ids;
  for (std::uint64_t id = 10; id < 40'000; id += 1 + rng() % 3) ids.push_back(id);
  std::vector<std::uint64_t> probe;
  for (std::uint64_t id = 0; id < 40'010; ++id) probe.push_back(id);

  SUBCASE("in order") {}
  SUBCASE("in reverse") {
    std::reverse(ids.begin(), ids.end());
  }
  SUBCASE("at random") {
    std::shuffle(ids.begin(), ids.end(), rng);
  }

  id_run_set s;
  std::set<std::uint64_t> m;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    s.insert(ids[i]);
    m.insert(ids[i]);
    if (i % 5000 == 0) check_same(s, m, probe);
  }
  s.insert(ids.front());  // again: no change
  check_same(s, m, probe);
  // Filling every gap leaves one run per chunk boundary at most.
  for (std::uint64_t id = 10; id < 40'000; ++id) {
    s.insert(id);
    m.insert(id);
  }
  check_same(s, m, probe);
  CHECK(s.runs() <= 40'000 / id_run_set::chunk_runs + 1);
}

TEST_CASE("ids at the ends of the range") {
  constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  id_run_set s;
  std::set<std::uint64_t> m;
  for (std::uint64_t id : {max, std::uint64_t{0}, max - 1, std::uint64_t{1}, max - 3, max}) {
    s.insert(id);
    m.insert(id);
  }
  check_same(s, m, {0, 1, 2, max - 4, max - 3, max - 2, max - 1, max});
  CHECK(s.runs() == 3);
}

}  // namespace
}  // namespace gprofid
