#include "gprofid/sleep.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <vector>

#include "gprofid/detail/park.hpp"
#include "gprofid/runtime.hpp"
#include "reactor.hpp"

namespace gprofid {
namespace {

using namespace std::chrono_literals;

task<void> sleeper(std::chrono::nanoseconds d, int tag, std::vector<int>& woke) {
  co_await sleep_for(d);
  woke.push_back(tag);
}

TEST_CASE("sleep: manual clock wakes sleepers in deadline order") {
  runtime rt({.workers = 1, .manual_clock = true});
  std::vector<int> woke;
  rt.run([](runtime& rt, std::vector<int>& woke) -> task<void> {
    const auto t0 = timer_clock::now();
    const std::uint64_t late = go(sleeper(30ms, 30, woke));
    go(sleeper(10ms, 10, woke));
    go(sleeper(20ms, 20, woke));
    co_await yield();  // all three park
    CHECK(rt.io_reactor().pending_timers() == 3);

    const snapshot snap = rt.take_snapshot();
    const auto* rec = snap.find(late);
    REQUIRE(rec);
    CHECK(rec->state == goroutine_state::waiting);
    CHECK(rec->reason == wait_reason::sleep);

    rt.advance_clock(9ms);
    co_await yield();
    CHECK(woke.empty());
    rt.advance_clock(6ms);  // t0 + 15ms
    co_await yield();
    CHECK(woke == std::vector<int>{10});
    rt.advance_clock(1h);
    co_await yield();
    CHECK(woke == std::vector<int>{10, 20, 30});
    CHECK(timer_clock::now() - t0 == 15ms + 1h);
  }(rt, woke));
}

TEST_CASE("sleep: equal deadlines wake in the order they were set") {
  runtime rt({.workers = 1, .manual_clock = true});
  std::vector<int> woke;
  rt.run([](runtime& rt, std::vector<int>& woke) -> task<void> {
    const auto when = timer_clock::now() + 5ms;
    for (int i = 0; i < 8; ++i) {
      go([](timer_clock::time_point when, int i, std::vector<int>& woke) -> task<void> {
        co_await sleep_until(when);
        woke.push_back(i);
      }(when, i, woke));
    }
    co_await yield();
    rt.advance_clock(5ms);
    co_await yield();
    CHECK(woke == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7});
  }(rt, woke));
}

TEST_CASE("sleep: zero, negative and past deadlines return at once") {
  runtime rt({.workers = 1, .manual_clock = true});
  rt.run([](runtime& rt) -> task<void> {
    co_await sleep_for(0ns);
    co_await sleep_for(-5s);
    co_await sleep_until(timer_clock::now());
    co_await sleep_until(timer_clock::now() - 1s);
    CHECK(rt.io_reactor().pending_timers() == 0);
  }(rt));
}

TEST_CASE("sleep: advance_clock needs a manual clock and a forward step") {
  runtime rt({.workers = 1});
  CHECK_THROWS_AS(rt.advance_clock(1ms), std::logic_error);
  runtime manual({.workers = 1, .manual_clock = true});
  CHECK_THROWS_AS(manual.advance_clock(-1ms), std::invalid_argument);
  const auto before = manual.now_ns();
  manual.advance_clock(3ms);
  CHECK(manual.now_ns() - before == 3'000'000);
}

TEST_CASE("sleep: a runtime torn down while goroutines sleep frees them") {
  for (bool manual : {true, false}) {
    CAPTURE(manual);
    runtime rt({.workers = 1, .manual_clock = manual});
    std::atomic<int> woke{0};
    rt.run([](runtime& rt, std::atomic<int>& woke) -> task<void> {
      for (int i = 0; i < 50; ++i) {
        go([](std::atomic<int>& woke) -> task<void> {
          std::vector<int> owned(100, 1);  // heap memory LSan would report if the frame leaked
          co_await sleep_for(1h);
          woke += owned[0];
        }(woke));
      }
      co_await yield();
      CHECK(rt.io_reactor().pending_timers() == 50);
    }(rt, woke));
    CHECK(woke == 0);
    CHECK(rt.live_goroutines() == 50);
  }
}

TEST_CASE("sleep: real clock sleeps at least as long as asked") {
  runtime rt({.workers = 1});
  rt.run([]() -> task<void> {
    const auto start = std::chrono::steady_clock::now();
    co_await sleep_for(20ms);
    CHECK(std::chrono::steady_clock::now() - start >= 20ms);
  }());
}

TEST_CASE("sleep: many concurrent real-clock sleepers on several workers") {
  runtime rt({.workers = 2});
  std::atomic<int> done{0};
  rt.run([](std::atomic<int>& done) -> task<void> {
    for (int i = 0; i < 200; ++i) {
      go([](int i, std::atomic<int>& done) -> task<void> {
        const auto start = std::chrono::steady_clock::now();
        const auto d = std::chrono::microseconds(100 * (i % 20));
        co_await sleep_for(d);
        CHECK(std::chrono::steady_clock::now() - start >= d);
        done.fetch_add(1);
      }(i, done));
    }
    // A later, shorter sleep must not be held up by the earlier, longer ones.
    const auto start = std::chrono::steady_clock::now();
    co_await sleep_for(5ms);
    CHECK(std::chrono::steady_clock::now() - start >= 5ms);
    while (done.load() < 200) co_await sleep_for(1ms);
  }(done));
  CHECK(done == 200);
}

}  // namespace
}  // namespace gprofid
