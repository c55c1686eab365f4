#include "gprofid/analysis/diff.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>

#include "gprofid/labels.hpp"

namespace gprofid {
namespace {

// Two sites, three stacks: 0 = worker at line 10, 1 = worker at line 20, 2 = main.
symbol_tables make_tables() {
  symbol_tables t;
  t.sites = {{"main()", "main.cpp", 5}, {"worker(int)", "worker.cpp", 3}};
  t.frames = {{"worker(int)", "worker.cpp", 10},
              {"worker(int)", "worker.cpp", 20},
              {"main()", "main.cpp", 30}};
  t.stacks = {{0, 2}, {1, 2}, {2}};
  return t;
}

goroutine_sample waiting(std::uint64_t id, std::uint32_t stack, wait_reason r,
                         std::int64_t wait_ns = 0) {
  return {.id = id,
          .parent_id = 1,
          .site = 1,
          .stack = stack,
          .state = goroutine_state::waiting,
          .reason = r,
          .wait_ns = wait_ns};
}

goroutine_sample running(std::uint64_t id, std::uint32_t stack, std::uint64_t resumes = 1) {
  return {.id = id,
          .parent_id = 1,
          .site = 1,
          .stack = stack,
          .state = goroutine_state::running,
          .resumes = resumes};
}

sample make_sample(std::uint64_t seq, std::int64_t t, std::vector<goroutine_sample> gs) {
  return {.seq = seq, .time_ns = t, .goroutines = std::move(gs)};
}

constexpr std::int64_t sec = 1'000'000'000;

TEST_CASE("diff reports created, exited, state and stack changes by id") {
  auto t = make_tables();
  auto a = make_sample(0, 0,
                       {running(1, 2), waiting(2, 0, wait_reason::chan_receive), running(3, 0),
                        waiting(4, 1, wait_reason::sleep)});
  auto b = make_sample(1, sec,
                       {running(1, 2), running(3, 1), waiting(4, 1, wait_reason::sleep),
                        waiting(5, 0, wait_reason::chan_send)});
  pair_diff d = diff_samples(a, b, t);
  CHECK(d.from_seq == 0);
  CHECK(d.to_seq == 1);
  REQUIRE(d.created.size() == 1);
  CHECK(d.created[0]->id == 5);
  REQUIRE(d.exited.size() == 1);
  CHECK(d.exited[0]->id == 2);
  CHECK(d.state_changes.empty());  // 3 stayed running
  REQUIRE(d.stack_changes.size() == 1);
  CHECK(d.stack_changes[0].before->stack == 0);
  CHECK(d.stack_changes[0].after->stack == 1);
  REQUIRE(d.stuck.size() == 1);
  CHECK(d.stuck[0].g->id == 4);
  CHECK(d.stuck[0].samples == 2);
  CHECK(d.stuck[0].duration_ns == sec);
  CHECK(d.counts.before == 4);
  CHECK(d.counts.after == 4);
  CHECK(d.counts.created == 1);
  CHECK(d.counts.exited == 1);
}

TEST_CASE(
    "a change of wait reason is a state change, and a running goroutine not resumed is flagged") {
  auto t = make_tables();
  auto a = make_sample(0, 0, {waiting(2, 0, wait_reason::chan_receive), running(3, 2, 7)});
  auto b = make_sample(1, sec, {waiting(2, 0, wait_reason::chan_send), running(3, 2, 7)});
  pair_diff d = diff_samples(a, b, t);
  REQUIRE(d.state_changes.size() == 1);
  CHECK(d.state_changes[0].before->reason == wait_reason::chan_receive);
  CHECK(d.state_changes[0].after->reason == wait_reason::chan_send);
  CHECK(d.stuck.empty());
  REQUIRE(d.never_yielded.size() == 1);
  CHECK(d.never_yielded[0].after->id == 3);
}

TEST_CASE("diff_engine carries stuck runs across consecutive pairs and restarts them on change") {
  auto t = make_tables();
  std::vector<sample> s = {
      // wait_ns 0: not known at that sample (then `resumes` alone says the wait continues).
      make_sample(0, 0, {waiting(7, 0, wait_reason::mutex_lock, 0)}),
      make_sample(1, sec, {waiting(7, 0, wait_reason::mutex_lock, sec)}),
      make_sample(2, 2 * sec, {waiting(7, 0, wait_reason::mutex_lock, 2 * sec)}),
      make_sample(3, 3 * sec, {waiting(7, 1, wait_reason::mutex_lock, 0)}),
      make_sample(4, 4 * sec, {waiting(7, 1, wait_reason::mutex_lock, sec)}),
  };
  diff_engine engine;
  auto d1 = engine.next(s[0], s[1], t);
  auto d2 = engine.next(s[1], s[2], t);
  auto d3 = engine.next(s[2], s[3], t);
  auto d4 = engine.next(s[3], s[4], t);
  REQUIRE(d2.stuck.size() == 1);
  CHECK(d1.stuck[0].samples == 2);
  CHECK(d2.stuck[0].samples == 3);
  CHECK(d2.stuck[0].since_ns == 0);
  CHECK(d2.stuck[0].duration_ns == 2 * sec);
  CHECK(d3.stuck.empty());
  REQUIRE(d4.stuck.size() == 1);
  CHECK(d4.stuck[0].samples == 2);
  CHECK(d4.stuck[0].since_ns == 3 * sec);

  // A non-consecutive pair starts fresh.
  auto d5 = engine.next(s[0], s[2], t);
  REQUIRE(d5.stuck.size() == 1);
  CHECK(d5.stuck[0].samples == 2);

  // Woken and parked again at the same line (resumes moved, or a later wait start): a new
  // wait, not a continuing one.
  auto again = s[2];
  again.seq = 5;
  again.time_ns = 5 * sec;
  again.goroutines[0].resumes = 2;
  again.goroutines[0].wait_ns = sec;
  CHECK(engine.next(s[2], again, t).stuck.empty());
}

TEST_CASE("filters select goroutines before reporting") {
  auto t = make_tables();
  auto labelled = waiting(6, 0, wait_reason::chan_receive);
  labelled.labels = with_label(nullptr, "request_id", "42");
  auto a = make_sample(0, 0, {running(1, 2), waiting(4, 1, wait_reason::mutex_lock, 5 * sec)});
  auto b = make_sample(1, sec,
                       {running(1, 2), waiting(4, 1, wait_reason::mutex_lock, 6 * sec),
                        waiting(5, 0, wait_reason::chan_receive), labelled});

  goroutine_filter by_label;
  by_label.labels = {{"request_id", "42"}};
  auto d = diff_samples(a, b, t, by_label);
  REQUIRE(d.created.size() == 1);
  CHECK(d.created[0]->id == 6);
  CHECK(d.counts.after == 1);
  CHECK(d.stuck.empty());

  goroutine_filter by_id;
  by_id.ids = {5, 1};
  d = diff_samples(a, b, t, by_id);
  CHECK(d.created.size() == 1);
  CHECK(d.counts.before == 1);

  goroutine_filter by_site;
  by_site.site = "main.cpp:5";  // goroutines spawned at main.cpp:5: none here
  d = diff_samples(a, b, t, by_site);
  CHECK(d.counts.after == 0);
  by_site = {};
  by_site.site = "worker";
  d = diff_samples(a, b, t, by_site);
  CHECK(d.counts.after == 4);

  goroutine_filter by_state;
  REQUIRE(by_state.set_state("sync.Mutex.Lock"));
  d = diff_samples(a, b, t, by_state);
  CHECK(d.created.empty());
  REQUIRE(d.stuck.size() == 1);
  CHECK(d.stuck[0].g->id == 4);
  goroutine_filter mutex_alias;
  CHECK(mutex_alias.set_state("mutex"));
  CHECK(mutex_alias.reason == wait_reason::mutex_lock);
  CHECK_FALSE(mutex_alias.set_state("sleeping"));

  goroutine_filter min_stuck;
  min_stuck.min_stuck_ns = 6 * sec;
  d = diff_samples(a, b, t, min_stuck);
  CHECK(d.created.empty());
  REQUIRE(d.stuck.size() == 1);  // waiting 6s by its own clock, though the pair spans 1s
  CHECK(d.stuck[0].duration_ns == 6 * sec);
  min_stuck.min_stuck_ns = 7 * sec;
  CHECK(diff_samples(a, b, t, min_stuck).stuck.empty());
}

TEST_CASE("stacks interned twice compare equal by content") {
  auto t = make_tables();
  t.stacks.push_back({0, 2});  // same frames as stack 0
  t.frames.push_back({"worker(int)", "worker.cpp", 10});
  t.stacks.push_back({3, 2});  // same content again, through a duplicated frame
  CHECK(same_stack(t, 0, 3));
  CHECK(same_stack(t, 0, 4));
  CHECK_FALSE(same_stack(t, 0, 1));
  CHECK_FALSE(same_stack(t, 0, 99));
}

TEST_CASE("import_sample re-expresses a sample of another recording against one table") {
  auto dst = make_tables();
  symbol_tables src;
  src.sites = {{"worker(int)", "worker.cpp", 3}, {"other()", "o.cpp", 1}};
  src.frames = {{"main()", "main.cpp", 30}, {"worker(int)", "worker.cpp", 20}};
  src.stacks = {{1, 0}};
  sample s = make_sample(0, 0, {{.id = 9, .site = 0, .stack = 0}, {.id = 10, .site = 1}});
  sample out = import_sample(s, src, dst);
  CHECK(out.goroutines[0].site == 1);   // worker.cpp:3 already in dst
  CHECK(out.goroutines[0].stack == 1);  // worker.cpp:20 + main: dst stack 1
  CHECK(out.goroutines[1].site == 2);   // new site appended
  CHECK(dst.sites.size() == 3);
  CHECK(dst.stacks.size() == 3);
}

TEST_CASE("diff of 100k goroutines is a linear merge join" * doctest::timeout(20)) {
  auto t = make_tables();
  constexpr std::uint64_t n = 100'000;
  sample a = make_sample(0, 0, {});
  sample b = make_sample(1, sec, {});
  for (std::uint64_t i = 1; i <= n; ++i) {
    a.goroutines.push_back(waiting(i, 0, wait_reason::chan_receive));
    // Every 10th exits, every 7th changes stack, 10% new ones.
    if (i % 10 != 0)
      b.goroutines.push_back(waiting(i, i % 7 == 0 ? 1 : 0, wait_reason::chan_receive));
  }
  for (std::uint64_t i = n + 1; i <= n + n / 10; ++i) b.goroutines.push_back(running(i, 2));
  auto start = std::chrono::steady_clock::now();
  pair_diff d = diff_samples(a, b, t);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(d.exited.size() == n / 10);
  CHECK(d.created.size() == n / 10);
  CHECK(d.counts.after == n);
  MESSAGE("diffed " << n << " goroutines in " << s * 1e3 << " ms ("
                    << static_cast<double>(n) / s / 1e6 << " M goroutines/s)");
}

}  // namespace
}  // namespace gprofid
