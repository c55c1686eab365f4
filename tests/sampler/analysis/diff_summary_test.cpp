#include "gprofid/analysis/diff_summary.hpp"

#include <doctest/doctest.h>

#include <algorithm>

#include "gprofid/labels.hpp"
#include "tests/sampler/analysis/test_support.hpp"

namespace gprofid {
namespace {

using testing::make_goroutine;
using testing::sec;
using testing::summary_tables;

// A leaking site (1) gains a goroutine every sample; a healthy site (2) churns; 2 and 3 hold a
// mutex deadlock; 4 spins without yielding.
std::vector<sample> recording() {
  std::vector<sample> out;
  for (std::uint64_t k = 0; k < 4; ++k) {
    sample s;
    s.seq = k;
    s.time_ns = static_cast<std::int64_t>(k) * sec;
    s.goroutines.push_back(
        make_goroutine(2, 0, 2, goroutine_state::waiting, wait_reason::mutex_lock));
    s.goroutines.push_back(
        make_goroutine(3, 0, 2, goroutine_state::waiting, wait_reason::mutex_lock));
    s.goroutines.push_back(make_goroutine(4, 0, 3, goroutine_state::running, wait_reason::none, 9));
    s.goroutines.push_back(
        make_goroutine(100 + k, 2, 1, goroutine_state::running));  // exits next sample
    for (std::uint64_t i = 0; i <= k; ++i) {
      auto leak =
          make_goroutine(200 + i, 1, 0, goroutine_state::waiting, wait_reason::chan_receive);
      leak.labels = with_label(nullptr, "request_id", std::to_string(i));
      leak.created_ns = static_cast<std::int64_t>(i) * sec - 1;
      s.goroutines.push_back(leak);
    }
    out.push_back(std::move(s));
  }
  return out;
}

TEST_CASE("summary ranks the leaking site first and warns about it") {
  auto t = summary_tables();
  summary_builder b;
  for (const auto& s : recording()) b.add(s, t);
  diff_summary s = b.finish();
  CHECK(s.samples == 4);
  CHECK(s.last_time_ns == 3 * sec);
  REQUIRE(!s.sites.empty());
  CHECK(s.sites[0].site == 1);
  CHECK(s.sites[0].alive_start == 1);
  CHECK(s.sites[0].alive_end == 4);
  CHECK(s.sites[0].net_growth == 3);
  CHECK(s.sites[0].created == 3);
  CHECK(s.sites[0].growth_per_s == doctest::Approx(1.0));
  CHECK(s.sites[0].grew_every_window);
  auto healthy = std::find_if(s.sites.begin(), s.sites.end(), [](auto& x) { return x.site == 2; });
  REQUIRE(healthy != s.sites.end());
  CHECK(healthy->net_growth == 0);
  CHECK(healthy->created == 3);
  CHECK(healthy->exited == 3);
  CHECK_FALSE(healthy->grew_every_window);

  bool growing = false, spinning = false;
  for (const auto& w : s.warnings) {
    growing |= w.what == summary_warning::kind::site_growing && w.site == 1;
    spinning |= w.what == summary_warning::kind::never_yielded && w.id == 4 && w.samples == 4;
  }
  CHECK(growing);
  CHECK(spinning);
}

TEST_CASE("summary lists the deadlocked pair among the longest stuck, with lifecycles") {
  auto t = summary_tables();
  summary_builder b;
  for (const auto& s : recording()) b.add(s, t);
  diff_summary s = b.finish();
  REQUIRE(s.longest_stuck.size() >= 2);
  CHECK(s.longest_stuck[0].id == 2);
  CHECK(s.longest_stuck[1].id == 3);
  CHECK(s.longest_stuck[0].stuck_reason == wait_reason::mutex_lock);
  CHECK(s.longest_stuck[0].stuck_samples == 4);
  CHECK(s.longest_stuck[0].stuck_ns == 3 * sec);
  CHECK(s.longest_stuck[0].stuck_stack == 2);

  CHECK(s.goroutines_seen == 3 + 4 + 4);
  CHECK(s.alive_start == 5);
  CHECK(s.alive_end == 3 + 1 + 4);
  auto find = [&](std::uint64_t id) {
    return *std::find_if(s.goroutines.begin(), s.goroutines.end(),
                         [&](auto& l) { return l.id == id; });
  };
  auto churn = find(101);
  CHECK(churn.created_inside);
  CHECK(churn.exited_inside);
  CHECK(churn.first_seq == 1);
  CHECK(churn.last_seq == 1);
  auto leak = find(203);
  CHECK(leak.created_inside);
  CHECK_FALSE(leak.exited_inside);
  CHECK(leak.lifetime_ns() == 1);  // created at 3s - 1ns, last seen at 3s
}

TEST_CASE("a label filter follows matching goroutines over time") {
  auto t = summary_tables();
  goroutine_filter f;
  f.labels = {{"request_id", "1"}};
  summary_builder b(f);
  auto rec = recording();
  rec[3].goroutines[5].state = goroutine_state::running;  // goroutine 201 wakes in sample 3
  rec[3].goroutines[5].reason = wait_reason::none;
  for (const auto& s : rec) b.add(s, t);
  diff_summary s = b.finish();
  CHECK(s.followed);
  REQUIRE(s.goroutines.size() == 1);
  const auto& l = s.goroutines[0];
  CHECK(l.id == 201);
  REQUIRE(l.timeline.size() == 2);
  CHECK(l.timeline[0].seq == 1);
  CHECK(l.timeline[0].state == goroutine_state::waiting);
  CHECK(l.timeline[1].seq == 3);
  CHECK(l.timeline[1].state == goroutine_state::running);
  CHECK(s.sites.size() == 1);
}

TEST_CASE("summary state and min-stuck filters apply to reported goroutines") {
  auto t = summary_tables();
  goroutine_filter f;
  REQUIRE(f.set_state("mutex"));
  f.min_stuck_ns = 2 * sec;
  summary_builder b(f);
  for (const auto& s : recording()) b.add(s, t);
  diff_summary s = b.finish();
  REQUIRE(s.goroutines.size() == 2);
  CHECK(s.goroutines[0].id == 2);
  CHECK(s.goroutines[1].id == 3);
}

}  // namespace
}  // namespace gprofid
