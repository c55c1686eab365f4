// The workers' clock (tick_clock) and the times it feeds into snapshots: it stays within a few
// microseconds of monotonic_ns(), and a running goroutine's record includes its slice in
// progress.
#include "tick_clock.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>

#include "gprofid/event.hpp"
#include "gprofid/runtime.hpp"
#include "gprofid/wait_group.hpp"

namespace gprofid {
namespace {

using namespace std::chrono_literals;

// Every read of `c` lies between two monotonic reads around it, give or take `slack_ns`. The
// bracket is robust to preemption: a descheduled thread only widens it.
template <class Clock>
void check_tracks_monotonic(Clock& c, std::chrono::milliseconds span, std::int64_t slack_ns) {
  const std::int64_t end = monotonic_ns() + std::chrono::nanoseconds(span).count();
  std::int64_t worst = 0;
  long reads = 0;
  for (std::int64_t before = monotonic_ns(); before < end; before = monotonic_ns(), ++reads) {
    const std::int64_t t = c.now();
    const std::int64_t after = monotonic_ns();
    worst = std::max({worst, before - t, t - after});
  }
  MESSAGE("worst distance outside the bracket " << worst << " ns over " << reads << " reads");
  CHECK(worst <= slack_ns);
}

TEST_CASE("tick_clock: stays within a few microseconds of the monotonic clock, across anchors") {
  detail::tick_clock c;
  MESSAGE("invariant TSC in use: " << detail::process_tick_rate().usable);
  // 30 ms spans three anchor periods. The rate is good to ~5e-5 (0.5 us per 10 ms period); 5 us
  // leaves room for a bad calibration window on a loaded machine.
  check_tracks_monotonic(c, 30ms, 5'000);
}

TEST_CASE("tick_clock: without an invariant TSC it is the monotonic clock") {
  detail::tick_clock c{detail::tick_rate{}};
  check_tracks_monotonic(c, 2ms, 0);
}

TEST_CASE("tick_clock: between anchors it never goes back") {
  detail::tick_clock c;
  std::int64_t prev = c.now();
  long backwards = 0;
  for (int i = 0; i < 200'000; ++i) {
    const std::int64_t t = c.now();
    // An anchor may step back by the rate's error over one period (well under a microsecond).
    if (t < prev - 1'000) ++backwards;
    prev = t;
  }
  CHECK(backwards == 0);
}

void spin_for(std::chrono::nanoseconds d) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
  }
}

TEST_CASE("snapshot: a running goroutine's running time includes its slice in progress") {
  runtime rt({.workers = 2});
  rt.run([](runtime& rt) -> task<void> {
    std::atomic<bool> started{false};
    std::atomic<bool> release{false};
    wait_group done;
    done.add(1);
    const auto spawned = std::chrono::steady_clock::now();
    const std::uint64_t id = go(
        [](std::atomic<bool>& started, std::atomic<bool>& release, wait_group& done) -> task<void> {
          started.store(true);
          while (!release.load()) {  // one long slice: it never suspends
          }
          done.done();
          co_return;
        }(started, release, done));
    while (!started.load()) {  // main keeps its own worker; the other one runs the spinner
    }
    spin_for(20ms);
    const snapshot snap = rt.take_snapshot();
    const auto upper = std::chrono::steady_clock::now() - spawned;
    release.store(true);
    const goroutine_record* r = snap.find(id);
    REQUIRE(r);
    CHECK(r->state == goroutine_state::running);
    CHECK(r->resumes == 1);
    // It started running after `spawned`, before the 20 ms spin, and still ran at the instant.
    CHECK(r->running_ns >= 20'000'000);
    CHECK(r->running_ns <= std::chrono::nanoseconds(upper).count() + 10'000);
    co_await done.wait();
  }(rt));
}

TEST_CASE("snapshot: running time adds up the slices of a goroutine") {
  runtime rt({.workers = 1});
  rt.run([](runtime& rt) -> task<void> {
    std::int64_t spun_ns = 0;
    wait_group done;
    done.add(1);
    event finished;
    const std::uint64_t id =
        go([](std::int64_t& spun_ns, wait_group& done, event& finished) -> task<void> {
          for (int i = 0; i < 10; ++i) {
            const auto from = std::chrono::steady_clock::now();
            spin_for(1ms);
            spun_ns += std::chrono::nanoseconds(std::chrono::steady_clock::now() - from).count();
            co_await yield();
          }
          done.done();
          co_await finished.wait();
        }(spun_ns, done, finished));
    co_await done.wait();
    const snapshot snap = rt.take_snapshot();
    finished.set();
    const goroutine_record* r = snap.find(id);
    REQUIRE(r);
    CHECK(r->state == goroutine_state::waiting);
    CHECK(r->resumes == 11);
    // Each slice is its spin plus a little scheduling around it; never less than the spins.
    CHECK(r->running_ns >= spun_ns - 11 * 5'000);
    CHECK(r->running_ns <= spun_ns + 11 * 200'000);
  }(rt));
}

}  // namespace
}  // namespace gprofid
