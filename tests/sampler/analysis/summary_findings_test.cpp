// The summary's findings: continuing waits only, one list per finding, honest lifetimes,
// robust growth trends and saturating arithmetic.
#include <doctest/doctest.h>

#include <algorithm>
#include <limits>

#include "gprofid/analysis/diff_summary.hpp"
#include "gprofid/labels.hpp"
#include "tests/sampler/analysis/test_support.hpp"

namespace gprofid {
namespace {

using testing::make_goroutine;
using testing::sec;
using testing::summary_tables;

TEST_CASE("a goroutine that wakes and comes back to the same line is not stuck") {
  auto t = summary_tables();
  summary_builder b;
  for (std::uint64_t k = 0; k < 6; ++k) {
    sample s{.seq = k, .time_ns = static_cast<std::int64_t>(k) * sec};
    // A ticker: the same line and reason, resumed between every two samples.
    s.goroutines.push_back(
        make_goroutine(5, 2, 1, goroutine_state::waiting, wait_reason::chan_receive, 1 + k));
    b.add(s, t);
  }
  diff_summary s = b.finish();
  CHECK(s.longest_stuck.empty());
  CHECK(s.stuck.empty());
}

// A mutex cycle (3, 4), a leak proven by each goroutine's own handle (site 1), a request
// labelled request_id=42 stuck on a mutex held by a sleeper, and a stop waiter from start-up.
std::vector<sample> troubled() {
  std::vector<sample> out;
  for (std::uint64_t k = 0; k < 5; ++k) {
    sample s{.seq = k, .time_ns = static_cast<std::int64_t>(k) * sec};
    auto stop = make_goroutine(2, 0, 1, goroutine_state::waiting, wait_reason::event);
    auto d1 = make_goroutine(3, 0, 2, goroutine_state::waiting, wait_reason::mutex_lock);
    d1.blocked_on = 0x10;
    auto d2 = make_goroutine(4, 0, 2, goroutine_state::waiting, wait_reason::mutex_lock);
    d2.blocked_on = 0x20;
    auto req = make_goroutine(6, 2, 2, goroutine_state::waiting, wait_reason::mutex_lock);
    req.blocked_on = 0x30;
    req.created_ns = sec / 2;
    req.labels = with_label(nullptr, "request_id", "42");
    auto holder = make_goroutine(7, 0, 1, goroutine_state::waiting, wait_reason::sleep);
    s.goroutines = {stop, d1, d2};
    if (k >= 1) s.goroutines.push_back(req);
    s.goroutines.push_back(holder);
    s.objects = {{.id = 0x10, .kind = wait_object_kind::mutex, .locked = true, .owner = 4},
                 {.id = 0x20, .kind = wait_object_kind::mutex, .locked = true, .owner = 3},
                 {.id = 0x30, .kind = wait_object_kind::mutex, .locked = true, .owner = 7}};
    for (std::uint64_t i = 0; i < k; ++i) {
      auto leak =
          make_goroutine(100 + i, 1, 0, goroutine_state::waiting, wait_reason::chan_receive);
      leak.created_ns = static_cast<std::int64_t>(i) * sec + 1;
      leak.blocked_on = 0x1000 + i;
      s.goroutines.push_back(leak);
      s.objects.push_back({.id = 0x1000 + i,
                           .kind = wait_object_kind::channel,
                           .receivers = 1,
                           .handles = 1,
                           .held_by = {100 + i}});
    }
    out.push_back(std::move(s));
  }
  return out;
}

TEST_CASE("summary findings: one deadlock, the leak site, the stuck request, background") {
  auto t = summary_tables();
  summary_builder b;
  for (const auto& s : troubled()) b.add(s, t);
  diff_summary s = b.finish();
  REQUIRE(s.deadlocks.size() == 1);
  CHECK(s.deadlocks[0].cycle.goroutines == std::vector<std::uint64_t>{3, 4});
  REQUIRE(s.leaks.size() == 1);
  CHECK(s.leaks[0].site == 1);
  CHECK(s.leaks[0].goroutines == std::vector<std::uint64_t>{100, 101, 102, 103});
  CHECK(s.leaks[0].closed_set == 4);
  CHECK(s.leaks[0].handles == 4);
  CHECK(s.stuck_threshold_ns == 3 * sec);  // 3 intervals of 1 s
  REQUIRE(s.stuck.size() == 1);
  CHECK(s.stuck[0].id == 6);
  CHECK(*find_label(*s.stuck[0].labels, "request_id") == "42");
  CHECK(s.stuck[0].reason == wait_reason::mutex_lock);
  bool stop_is_background = false;
  for (const auto& bg : s.background) {
    for (auto id : bg.goroutines) stop_is_background |= id == 2;
  }
  CHECK(stop_is_background);
  CHECK(s.growing == std::vector<std::uint32_t>{1});
}

// 1000 receivers on one channel nobody else holds: the proof names one channel with 1000
// handles, not 1000 channels with a million (each goroutine's proof counted it again).
TEST_CASE("summary findings: leaked goroutines sharing a channel count it once") {
  auto t = summary_tables();
  summary_builder b;
  constexpr std::uint32_t n = 1000;
  for (std::uint64_t k = 0; k < 3; ++k) {
    sample s{.seq = k, .time_ns = static_cast<std::int64_t>(k) * sec};
    wait_object shared{
        .id = 0x1000, .kind = wait_object_kind::channel, .receivers = n, .handles = n};
    wait_object other{
        .id = 0x2000, .kind = wait_object_kind::channel, .receivers = 1, .handles = 2};
    for (std::uint64_t i = 0; i < n; ++i) {
      auto leak =
          make_goroutine(100 + i, 1, 0, goroutine_state::waiting, wait_reason::chan_receive);
      leak.blocked_on = shared.id;
      shared.held_by.push_back(100 + i);
      s.goroutines.push_back(leak);
    }
    // One more at the same site on a channel of its own, holding both of its handles.
    auto last = make_goroutine(100 + n, 1, 0, goroutine_state::waiting, wait_reason::chan_receive);
    last.blocked_on = other.id;
    other.held_by = {100 + n, 100 + n};
    s.goroutines.push_back(last);
    s.objects = {shared, other};
    b.add(s, t);
  }
  diff_summary s = b.finish();
  REQUIRE(s.leaks.size() == 1);
  CHECK(s.leaks[0].goroutines.size() == n + 1);
  CHECK(s.leaks[0].closed_set == n + 1);
  CHECK(s.leaks[0].channels == 2);
  CHECK(s.leaks[0].handles == n + 2);
}

TEST_CASE("growing: a steady leak with a flat window grows; a ramp-up that flattens does not") {
  auto t = summary_tables();
  summary_builder b;
  const int leak_counts[] = {0, 2, 4, 4, 6, 8, 10, 12};
  const int ramp_counts[] = {0, 5, 10, 10, 10, 10, 10, 10};
  std::uint64_t next = 1000;
  for (std::uint64_t k = 0; k < 8; ++k) {
    sample s{.seq = k, .time_ns = static_cast<std::int64_t>(k) * sec};
    for (int i = 0; i < leak_counts[k]; ++i) {
      s.goroutines.push_back(
          make_goroutine(100 + i, 1, 0, goroutine_state::waiting, wait_reason::chan_receive));
    }
    for (int i = 0; i < ramp_counts[k]; ++i) {
      s.goroutines.push_back(
          make_goroutine(next++, 2, 1, goroutine_state::waiting, wait_reason::sleep));
    }
    b.add(s, t);
  }
  diff_summary s = b.finish();
  CHECK(s.growing == std::vector<std::uint32_t>{1});
}

TEST_CASE("an exited goroutine's life is bounded by its last sample and the first without it") {
  auto t = summary_tables();
  summary_builder b;
  sample s0{
      .seq = 0, .time_ns = 0, .goroutines = {make_goroutine(9, 2, 1, goroutine_state::running)}};
  sample s1{.seq = 1, .time_ns = sec};
  b.add(s0, t);
  b.add(s1, t);
  diff_summary s = b.finish();
  REQUIRE(s.goroutines.size() == 1);
  CHECK(s.goroutines[0].exited_inside);
  CHECK(s.goroutines[0].lifetime_ns() == 0);
  CHECK(s.goroutines[0].lifetime_max_ns() == sec);
}

TEST_CASE("hostile times saturate instead of wrapping") {
  auto t = summary_tables();
  summary_builder b;
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  constexpr auto min = std::numeric_limits<std::int64_t>::min();
  sample a{
      .seq = 0,
      .time_ns = min,
      .goroutines = {make_goroutine(2, 0, 2, goroutine_state::waiting, wait_reason::mutex_lock)}};
  sample c{.seq = 1, .time_ns = max, .goroutines = a.goroutines};
  a.goroutines[0].wait_ns = max;
  a.goroutines[0].created_ns = max;
  b.add(a, t);
  b.add(c, t);
  diff_summary s = b.finish();
  REQUIRE(s.longest_stuck.size() == 1);
  CHECK(s.longest_stuck[0].stuck_ns == max);
  CHECK(s.goroutines[0].lifetime_ns() >= 0);
}

}  // namespace
}  // namespace gprofid
