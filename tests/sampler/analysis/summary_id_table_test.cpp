// The summary's flat table of live goroutine ids (summary_id_table) and the chunked set on it
// (summary_live_set): every id inserted is found until it is erased, through growth, through
// erasures that shift clusters back (across the end of the array too), for consecutive ids and
// ids far apart; a value keeps its address while others come and go; a copy is independent.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <unordered_map>
#include <vector>

#include "gprofid/analysis/summary_id_table.hpp"
#include "gprofid/analysis/summary_live_set.hpp"

namespace gprofid {
namespace {

// The table agrees with a std::unordered_map on every id in `probe`.
void check_same(const summary_id_table& t,
                const std::unordered_map<std::uint64_t, std::uint32_t>& m,
                const std::vector<std::uint64_t>& probe) {
  REQUIRE(t.size() == m.size());
  for (std::uint64_t id : probe) {
    auto it = m.find(id);
    CHECK(t.find(id) == (it == m.end() ? summary_id_table::none : it->second));
  }
  std::size_t seen = 0;
  t.for_each([&](std::uint64_t id, std::uint32_t slot) {
    ++seen;
    auto it = m.find(id);
    REQUIRE(it != m.end());
    CHECK(it->second == slot);
  });
  CHECK(seen == m.size());
}

TEST_CASE("summary_id_table grows and keeps every id") {
  summary_id_table t;
  CHECK(t.find(1) == summary_id_table::none);
  CHECK(t.erase(1) == summary_id_table::none);
  for (std::uint32_t i = 0; i < 100'000; ++i) {
    t.insert(i + 1, i);
    // A power of two, at most 3/4 full.
    CHECK((t.capacity() & (t.capacity() - 1)) == 0);
    CHECK(t.size() * 4 <= t.capacity() * 3);
  }
  CHECK(t.size() == 100'000);
  CHECK(t.capacity() == 262'144);
  for (std::uint32_t i = 0; i < 100'000; ++i) REQUIRE(t.find(i + 1) == i);
  CHECK(t.find(0) == summary_id_table::none);
  CHECK(t.find(100'001) == summary_id_table::none);
  t.clear();
  CHECK(t.size() == 0);
  CHECK(t.find(5) == summary_id_table::none);
  t.insert(5, 7);
  CHECK(t.find(5) == 7);
}

TEST_CASE("id_table::assign replaces a value or inserts one, through growth and erasures") {
  // As the sampler keeps each goroutine's stack: most assigns replace, some ids come and go.
  std::mt19937_64 rng(8);
  id_table t;
  std::unordered_map<std::uint64_t, std::uint32_t> m;
  std::vector<std::uint64_t> probe;
  for (std::uint64_t id = 1; id <= 300; ++id) probe.push_back(id);
  for (int step = 0; step < 20'000; ++step) {
    const std::uint64_t id = probe[rng() % probe.size()];
    if (rng() % 4 == 0) {
      CHECK(t.erase(id) == (m.count(id) ? m.at(id) : id_table::none));
      m.erase(id);
    } else {
      const auto v = static_cast<std::uint32_t>(rng() % 1000);
      t.assign(id, v);
      m[id] = v;
    }
    if (step % 101 == 0) check_same(t, m, probe);
  }
  check_same(t, m, probe);
}

TEST_CASE("summary_id_table: ids far apart and at the limits") {
  summary_id_table t;
  std::unordered_map<std::uint64_t, std::uint32_t> m;
  std::vector<std::uint64_t> ids = {0, 1, UINT64_MAX, UINT64_MAX - 1, std::uint64_t{1} << 63};
  for (std::uint64_t k = 1; k < 2000; ++k) ids.push_back(k << 40);   // same low bits
  for (std::uint64_t k = 1; k < 2000; ++k) ids.push_back(k * 4096);  // multiples of a page
  std::uint32_t slot = 0;
  for (std::uint64_t id : ids) {
    t.insert(id, slot);
    m[id] = slot++;
  }
  std::vector<std::uint64_t> probe = ids;
  for (std::uint64_t id : ids) probe.push_back(id + 1);
  check_same(t, m, probe);
  // Erase every other one: the rest stay reachable.
  for (std::size_t i = 0; i < ids.size(); i += 2) {
    CHECK(t.erase(ids[i]) == m.at(ids[i]));
    m.erase(ids[i]);
    CHECK(t.erase(ids[i]) == summary_id_table::none);
  }
  check_same(t, m, probe);
}

TEST_CASE("summary_id_table: random inserts and erases in a small, full table") {
  // Kept between 6 and 12 of 16 entries, ids from a small range: long clusters that wrap past
  // the end of the array, so every erase shifts entries back, some across the wrap.
  std::mt19937_64 rng(13);
  summary_id_table t;
  std::unordered_map<std::uint64_t, std::uint32_t> m;
  std::vector<std::uint64_t> probe;
  for (std::uint64_t id = 0; id < 64; ++id) probe.push_back(id * 0x9E3779B9u);
  std::uint32_t next_slot = 0;
  for (int step = 0; step < 200'000; ++step) {
    const std::uint64_t id = probe[rng() % probe.size()];
    const bool in = m.count(id) != 0;
    if (!in && (m.size() < 6 || (m.size() < 12 && rng() % 2 == 0))) {
      t.insert(id, next_slot);
      m[id] = next_slot++;
    } else if (in) {
      REQUIRE(t.erase(id) == m.at(id));
      m.erase(id);
    }
    if (step % 97 == 0) check_same(t, m, probe);
  }
  CHECK(t.capacity() == 16);  // never grew past what 12 need
  check_same(t, m, probe);
}

TEST_CASE("summary_id_table: many ids through churn, as a long recording has") {
  // 50k live at any time, a million over the run: erasures leave no tombstones to rebuild.
  summary_id_table t;
  std::uint64_t lo = 1, hi = 1;
  for (; hi <= 50'000; ++hi) t.insert(hi, static_cast<std::uint32_t>(hi));
  const std::size_t capacity = t.capacity();
  for (; hi <= 1'000'000; ++hi, ++lo) {
    REQUIRE(t.erase(lo) == static_cast<std::uint32_t>(lo));
    t.insert(hi, static_cast<std::uint32_t>(hi));
  }
  CHECK(t.capacity() == capacity);
  CHECK(t.size() == 50'000);
  for (std::uint64_t id = lo; id < hi; id += 7)
    REQUIRE(t.find(id) == static_cast<std::uint32_t>(id));
  CHECK(t.find(lo - 1) == summary_id_table::none);
}

struct value {
  std::uint64_t id = 0;
  std::vector<int> held;
};

TEST_CASE("summary_live_set: stable addresses, reused slots, independent copies") {
  summary_live_set<value> s;
  std::vector<value*> at;
  for (std::uint64_t id = 1; id <= 10'000; ++id) {
    at.push_back(&s.insert(id, {id, {1, 2, 3}}));
  }
  CHECK(s.size() == 10'000);
  // Growing past two chunks moved nothing.
  for (std::uint64_t id = 1; id <= 10'000; ++id) REQUIRE(s.find(id) == at[id - 1]);
  value* gone = s.find(17);
  s.erase(17);
  CHECK(s.find(17) == nullptr);
  CHECK(gone->held.empty());  // released at once
  // The freed slot is the next one used.
  CHECK(&s.insert(20'000, {20'000, {}}) == gone);

  summary_live_set<value> copy = s;
  copy.find(1)->held.push_back(4);
  copy.erase(2);
  CHECK(s.find(1)->held.size() == 3);
  CHECK(s.find(2) != nullptr);
  CHECK(copy.size() == s.size() - 1);
  std::uint64_t sum = 0;
  copy.for_each([&](value& v) { sum += v.id; });
  CHECK(sum == std::uint64_t{10'000} * 10'001 / 2 - 17 - 2 + 20'000);
  s.clear();
  CHECK(s.size() == 0);
  CHECK(s.find(1) == nullptr);
  CHECK(copy.find(1)->id == 1);
}

}  // namespace
}  // namespace gprofid
