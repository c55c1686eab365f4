// What a sample's wait-for graph proves: deadlock cycles, leaks by proof, lost wake-ups; and the
// continuing-wait rule and saturating arithmetic the summary builds on.
#include "gprofid/analysis/wait_graph.hpp"

#include <doctest/doctest.h>

#include <limits>

#include "gprofid/analysis/wait_rules.hpp"

namespace gprofid {
namespace {

goroutine_sample waiting(std::uint64_t id, wait_reason r, std::uint64_t on) {
  return {.id = id, .state = goroutine_state::waiting, .reason = r, .resumes = 1, .blocked_on = on};
}

wait_object channel(std::uint64_t id, std::uint32_t handles, std::vector<std::uint64_t> held_by) {
  wait_object o;
  o.id = id;
  o.kind = wait_object_kind::channel;
  o.receivers = 1;
  o.handles = handles;
  o.held_by = std::move(held_by);
  return o;
}

wait_object locked_mutex(std::uint64_t id, std::uint64_t owner) {
  wait_object o;
  o.id = id;
  o.kind = wait_object_kind::mutex;
  o.locked = true;
  o.owner = owner;
  return o;
}

TEST_CASE("leak: a receiver holding the only handle can never wake") {
  sample s;
  s.goroutines = {waiting(7, wait_reason::chan_receive, 0x100)};
  s.objects = {channel(0x100, 1, {7})};
  auto d = diagnose(s);
  REQUIRE(d.leaked.size() == 1);
  CHECK(d.leaked[0].id == 7);
  CHECK(d.leaked[0].rule == leak_rule::closed_set);
  CHECK(d.leaked[0].handles == 1);
  CHECK(d.leak_of(7) != nullptr);
}

TEST_CASE("leak: a closed set of goroutines holding each other's channels") {
  sample s;
  s.goroutines = {waiting(3, wait_reason::chan_receive, 0x100),
                  waiting(4, wait_reason::chan_send, 0x200)};
  s.objects = {channel(0x100, 2, {3, 4}), channel(0x200, 1, {3})};
  s.objects[1].receivers = 0;
  s.objects[1].senders = 1;
  CHECK(diagnose(s).leaked.size() == 2);
}

TEST_CASE("no leak when any handle is outside the blocked set") {
  sample s;
  // 0x100: a handle in no parked frame (heap, timer, a running or sleeping goroutine).
  // 0x200: held by 5 and 6; 6 waits on 0x300, which the heap also holds: 6, then 5, reachable.
  s.goroutines = {waiting(5, wait_reason::chan_receive, 0x200),
                  waiting(6, wait_reason::chan_receive, 0x300),
                  waiting(7, wait_reason::chan_receive, 0x100)};
  s.objects = {channel(0x100, 2, {7}), channel(0x200, 2, {5, 6}), channel(0x300, 2, {6})};
  CHECK(diagnose(s).leaked.empty());
}

TEST_CASE("no leak on a channel that is ready or closed; a lost wake-up instead") {
  sample s;
  s.goroutines = {waiting(7, wait_reason::chan_receive, 0x100)};
  s.objects = {channel(0x100, 1, {7})};
  s.objects[0].capacity = 4;
  s.objects[0].count = 2;
  auto d = diagnose(s);
  CHECK(d.leaked.empty());
  REQUIRE(d.lost_wakeups.size() == 1);
  CHECK(d.lost_wakeups[0].id == 7);
  s.objects[0].count = 0;
  s.objects[0].closed = true;
  CHECK(diagnose(s).leaked.empty());
}

TEST_CASE("leak: a select only of channels its goroutine alone holds; nil waits") {
  sample s;
  wait_object sel;
  sel.id = 0x50;
  sel.kind = wait_object_kind::select;
  sel.cases = {0x100, 0x200};
  s.goroutines = {waiting(2, wait_reason::select, 0x50),
                  waiting(3, wait_reason::chan_receive_nil, 0)};
  s.objects = {sel, channel(0x100, 1, {2}), channel(0x200, 1, {2})};
  auto d = diagnose(s);
  REQUIRE(d.leaked.size() == 2);
  CHECK(d.leaked[0].channels.size() == 2);
  CHECK(d.leaked[1].rule == leak_rule::nil_wait);
  // A case whose channel is not in the sample proves nothing.
  s.objects[0].cases.push_back(0x300);
  CHECK(diagnose(s).leaked.size() == 1);
}

TEST_CASE("no leak: a select with a timer case, a channel a timer sends on, a sleeper's handle") {
  // The graph's own notion: a channel whose `timer` names a pending timer can wake, even if
  // every handle the runtime counted were attributed to its waiters.
  wait_object timer;
  timer.id = 0x900;
  timer.kind = wait_object_kind::timer;
  timer.when_ns = 5'000'000'000;
  wait_object sel;
  sel.id = 0x50;
  sel.kind = wait_object_kind::select;
  sel.cases = {0x100, 0x200};
  auto timed = channel(0x200, 1, {2});
  timed.timer = timer.id;
  sample s;
  s.goroutines = {waiting(2, wait_reason::select, 0x50)};
  s.objects = {sel, channel(0x100, 1, {2}), timed, timer};
  CHECK(diagnose(s).leaked.empty());
  s.objects[2].timer = 0;  // the timer fired or was stopped: nothing else can wake it
  CHECK(diagnose(s).leak_of(2) != nullptr);

  // A receiver whose channel's other handle is in the frame of a goroutine parked on a timer
  // (or an fd): attributed to that goroutine, which is never leaked, so the channel is reachable.
  wait_object fd;
  fd.id = 0x910;
  fd.kind = wait_object_kind::fd;
  fd.fd = 7;
  for (std::uint64_t on : {timer.id, fd.id}) {
    sample t;
    t.goroutines = {waiting(3, wait_reason::chan_receive, 0x100),
                    waiting(4, on == timer.id ? wait_reason::sleep : wait_reason::io_wait, on)};
    t.objects = {channel(0x100, 2, {3, 4}), timer, fd};
    CHECK(diagnose(t).leaked.empty());
    CHECK(diagnose(t).lost_wakeups.empty());
  }
}

TEST_CASE("main waiting forever is not a leak") {
  sample s;
  s.goroutines = {waiting(1, wait_reason::chan_receive, 0x100)};
  s.objects = {channel(0x100, 1, {1})};
  CHECK(diagnose(s).leaked.empty());
}

TEST_CASE("deadlock: each waits on a mutex the next holds; others pile up behind") {
  sample s;
  // 0x10 held by 4, 0x20 held by 5: the cycle 4 -> 5 -> 4; 9 waits on 0x10 too.
  // 0x30 is held by 12, which sleeps: 11 is not deadlocked.
  s.goroutines = {waiting(4, wait_reason::mutex_lock, 0x20),
                  waiting(5, wait_reason::mutex_lock, 0x10),
                  waiting(9, wait_reason::mutex_lock, 0x10),
                  waiting(11, wait_reason::mutex_lock, 0x30), waiting(12, wait_reason::sleep, 0)};
  s.objects = {locked_mutex(0x10, 4), locked_mutex(0x20, 5), locked_mutex(0x30, 12)};
  auto d = diagnose(s);
  REQUIRE(d.deadlocks.size() == 1);
  CHECK(d.deadlocks[0].goroutines == std::vector<std::uint64_t>{4, 5});
  CHECK(d.deadlocks[0].objects == std::vector<std::uint64_t>{0x20, 0x10});
  CHECK(d.deadlocks[0].blocked_behind == std::vector<std::uint64_t>{9});
  CHECK(d.cycle_of(5) != nullptr);
  CHECK(d.cycle_of(11) == nullptr);
  CHECK(d.lost_wakeups.empty());
}

TEST_CASE("a wait continues only if the goroutine did not run in between") {
  symbol_tables t;
  t.stacks = {{}};
  goroutine_sample a = waiting(3, wait_reason::chan_receive, 0);
  a.wait_ns = 100;
  goroutine_sample b = a;
  b.wait_ns = 1100;
  CHECK(wait_continues(a, 1000, b, 2000, t));
  b.resumes = 2;  // woke and came back to the same line
  CHECK_FALSE(wait_continues(a, 1000, b, 2000, t));
  b.resumes = 1;
  b.wait_ns = 500;  // a later wait start: a new wait
  CHECK_FALSE(wait_continues(a, 1000, b, 2000, t));
}

TEST_CASE("saturating arithmetic on hostile times") {
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  constexpr auto min = std::numeric_limits<std::int64_t>::min();
  CHECK(saturating_sub(max, -1) == max);
  CHECK(saturating_sub(min, 1) == min);
  CHECK(saturating_add(max, 1) == max);
  CHECK(saturating_add(min, -1) == min);
  CHECK(saturating_sub(5, 3) == 2);
}

}  // namespace
}  // namespace gprofid
