// `gprof-id top`'s model: following a goroutine by id (its history, its stack since when, its
// exit), moving through samples, the memory budget, and the summary's warnings at a position.
#include <doctest/doctest.h>

#include "gprofid/analysis/top_follow.hpp"
#include "gprofid/analysis/top_session.hpp"

namespace gprofid {
namespace {

constexpr std::int64_t sec = 1'000'000'000;

symbol_tables tables() {
  symbol_tables t;
  t.sites = {{"main()", "main.cpp", 5}, {"worker()", "w.cpp", 3}};
  t.frames = {{"worker()", "w.cpp", 10}, {"worker()", "w.cpp", 20}, {"lock()", "m.cpp", 7}};
  t.stacks = {{0}, {1}, {2}};
  return t;
}

goroutine_sample g(std::uint64_t id, goroutine_state st, wait_reason r, std::uint32_t stack,
                   std::uint64_t resumes) {
  return {.id = id,
          .parent_id = 1,
          .site = 1,
          .stack = stack,
          .state = st,
          .reason = r,
          .resumes = resumes};
}

// Goroutine 7: waits at line 10, runs, waits at line 20, then exits after sample 3. Goroutine 2:
// one wait on a mutex through every sample, never resumed (stuck).
std::vector<sample> story() {
  std::vector<sample> out;
  for (std::uint64_t k = 0; k < 6; ++k) {
    sample s{.seq = k, .time_ns = static_cast<std::int64_t>(k) * sec};
    auto stuck = g(2, goroutine_state::waiting, wait_reason::mutex_lock, 0, 1);
    stuck.wait_ns = static_cast<std::int64_t>(k) * sec + sec / 2;
    s.goroutines.push_back(stuck);
    if (k == 0 || k == 1)
      s.goroutines.push_back(g(7, goroutine_state::waiting, wait_reason::sleep, 0, 1));
    if (k == 2) s.goroutines.push_back(g(7, goroutine_state::running, wait_reason::none, 0, 2));
    if (k == 3) s.goroutines.push_back(g(7, goroutine_state::waiting, wait_reason::sleep, 1, 3));
    out.push_back(std::move(s));
  }
  return out;
}

TEST_CASE("following a goroutine records each change and its exit") {
  auto t = tables();
  auto samples = story();
  top_followed f = follow_goroutine(7, samples, t);
  CHECK(f.exited);
  CHECK(!f.present);
  CHECK(f.exited_by_seq == 4);
  REQUIRE(f.history.size() == 4);  // seen waiting, running, waiting elsewhere, gone
  CHECK(f.history[0].seq == 0);
  CHECK(f.history[1].state == goroutine_state::running);
  CHECK(f.history[2].stack == 1);
  CHECK(!f.history[3].present);
  REQUIRE(f.stack_since);
  CHECK(f.stack_since->seq == 3);
  REQUIRE(f.last_seen);
  CHECK(f.last_seen->resumes == 3);

  auto upto2 = follow_goroutine(7, std::span<const sample>(samples.data(), 3), t);
  CHECK(upto2.present);
  CHECK(!upto2.exited);
  CHECK(upto2.history.size() == 2);

  auto never = follow_goroutine(99, samples, t);
  CHECK(!never.last_seen);
  CHECK(never.history.empty());
}

TEST_CASE("the session follows the latest sample until moved, and warns as of its position") {
  top_session s;
  s.tables() = tables();
  auto samples = story();
  s.add(samples[0]);
  s.add(samples[1]);
  CHECK(s.position() == 1);
  CHECK(s.table().size() == 2);
  s.follow(7);
  REQUIRE(s.followed());
  CHECK(s.followed()->present);
  CHECK(s.step(-1));
  CHECK(!s.step(-1));  // already at the first
  s.add(samples[2]);
  CHECK(s.position() == 0);  // not at the latest: stays
  CHECK(s.seek(99));
  CHECK(s.at_latest());
  for (std::size_t k = 3; k < samples.size(); ++k) s.add(samples[k]);
  CHECK(s.position() == 5);
  CHECK(s.table().size() == 1);
  CHECK(s.followed()->exited);
  // Goroutine 2 has waited 5.5 s without being resumed: stuck (threshold max(1 s, 3 intervals)).
  bool stuck = false;
  for (const auto& w : s.warnings().lines) {
    if (w.kind == top_mark::stuck && w.goroutines == std::vector<std::uint64_t>{2}) stuck = true;
  }
  CHECK(stuck);
  CHECK(s.warnings().mark_of(2) == top_mark::stuck);
  CHECK(s.warnings().mark_of(7) == top_mark::none);
  // Back at sample 0 nothing has lasted yet: the warnings are rebuilt from the start.
  CHECK(s.seek(0));
  CHECK(s.warnings().lines.empty());
  CHECK(s.followed()->present);
  CHECK(s.seek(5));
  CHECK(s.warnings().mark_of(2) == top_mark::stuck);
}

TEST_CASE("a live session keeps within its record budget and drops the oldest samples") {
  top_session s({.max_records = 4});
  s.tables() = tables();
  for (const auto& x : story()) s.add(x);
  CHECK(s.size() < 6);
  CHECK(s.size() >= 2);
  CHECK(s.dropped() == 6 - s.size());
  CHECK(s.current().seq == 5);
  CHECK(s.previous()->seq == 4);
  // The warnings still cover the dropped samples.
  CHECK(s.warnings().mark_of(2) == top_mark::stuck);
}

}  // namespace
}  // namespace gprofid
