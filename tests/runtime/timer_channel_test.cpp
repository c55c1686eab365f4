#include "gprofid/timer_channel.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <optional>

#include "gprofid/detail/park.hpp"
#include "gprofid/runtime.hpp"
#include "gprofid/select.hpp"
#include "reactor.hpp"

namespace gprofid {
namespace {

using namespace std::chrono_literals;

// Waits for data or a 10 ms timeout; records which case fired and what it received.
task<void> receive_with_timeout(chan<int> data, int& fired, std::optional<int>& value,
                                std::optional<std::int64_t>& timed_out_at) {
  fired = co_await select(recv_case(data, value), recv_case(after(10ms), timed_out_at));
}

TEST_CASE("after: select times out when the clock reaches the deadline") {
  runtime rt({.workers = 1, .manual_clock = true});
  rt.run([](runtime& rt) -> task<void> {
    const std::int64_t t0 = rt.now_ns();
    int fired = -1;
    std::optional<int> value;
    std::optional<std::int64_t> at;
    go(receive_with_timeout(make_chan<int>(), fired, value, at));
    co_await yield();
    rt.advance_clock(9ms);
    co_await yield();
    CHECK(fired == -1);
    rt.advance_clock(1ms);
    co_await yield();
    CHECK(fired == 1);
    CHECK(!value);
    REQUIRE(at);
    CHECK(*at - t0 == 10'000'000);
  }(rt));
}

TEST_CASE("after: data before the deadline wins") {
  runtime rt({.workers = 1, .manual_clock = true});
  rt.run([](runtime& rt) -> task<void> {
    int fired = -1;
    std::optional<int> value;
    std::optional<std::int64_t> at;
    auto data = make_chan<int>(1);
    go(receive_with_timeout(data, fired, value, at));
    co_await yield();
    rt.advance_clock(5ms);
    CHECK(data.try_send(42));
    co_await yield();
    CHECK(fired == 0);
    CHECK(value == 42);
    // The abandoned timer still fires into its (unread) channel without harm.
    rt.advance_clock(1h);
    CHECK(rt.io_reactor().pending_timers() == 0);
  }(rt));
}

TEST_CASE("after: zero or negative durations are ready at once") {
  runtime rt({.workers = 1, .manual_clock = true});
  rt.run([]() -> task<void> {
    CHECK(after(0ns).try_recv());
    CHECK(after(-1s).try_recv());
    auto c = after(1ns);
    CHECK(c.cap() == 1);
    CHECK(!c.try_recv());
    co_return;
  }());
}

TEST_CASE("ticker: ticks every period and drops the ticks a slow receiver misses") {
  runtime rt({.workers = 1, .manual_clock = true});
  rt.run([](runtime& rt) -> task<void> {
    const std::int64_t t0 = rt.now_ns();
    ticker t(10ms);
    CHECK(!t.c().try_recv());
    rt.advance_clock(10ms);
    CHECK(t.c().try_recv() == t0 + 10'000'000);
    rt.advance_clock(10ms);
    CHECK(co_await t.c().recv() == t0 + 20'000'000);
    rt.advance_clock(35ms);  // three periods pass unread: one tick is kept
    CHECK(t.c().try_recv() == t0 + 55'000'000);
    CHECK(!t.c().try_recv());
    rt.advance_clock(5ms);  // the schedule stays on the period grid
    CHECK(t.c().try_recv() == t0 + 60'000'000);
    t.stop();
    CHECK(rt.io_reactor().pending_timers() == 0);
    rt.advance_clock(1h);
    CHECK(!t.c().try_recv());
    CHECK_THROWS_AS(ticker(0ns), std::invalid_argument);
  }(rt));
}

TEST_CASE("ticker and after on the real clock") {
  runtime rt({.workers = 2});
  rt.run([]() -> task<void> {
    const auto start = std::chrono::steady_clock::now();
    co_await after(3ms).recv();
    CHECK(std::chrono::steady_clock::now() - start >= 3ms);
    ticker t(1ms);
    for (int i = 0; i < 3; ++i) CHECK(co_await t.c().recv());
    CHECK(std::chrono::steady_clock::now() - start >= 6ms);
  }());
}

TEST_CASE("timer channels: teardown with receivers still waiting") {
  runtime rt({.workers = 1});
  rt.run([]() -> task<void> {
    go([]() -> task<void> { co_await after(1h).recv(); }());
    go([]() -> task<void> {
      ticker t(1h);
      co_await t.c().recv();
    }());
    co_await yield();
  }());
  CHECK(rt.live_goroutines() == 2);
}

}  // namespace
}  // namespace gprofid
