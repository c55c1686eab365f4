#include "gprofid/wait_group.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <stdexcept>

#include "gprofid/runtime.hpp"
#include "tests/runtime/test_support.hpp"

namespace gprofid {
namespace {

task<void> work(wait_group& wg, int& finished, int yields) {
  for (int i = 0; i < yields; ++i) co_await yield();
  ++finished;
  wg.done();
}

TEST_CASE("wait_group: waits for many goroutines") {
  runtime rt({.workers = 1});
  int finished = 0;
  rt.run([](int& finished) -> task<void> {
    wait_group wg;
    co_await wg.wait();  // zero: returns at once
    wg.add(200);
    for (int i = 0; i < 200; ++i) go(work(wg, finished, i % 7));
    CHECK(wg.count() == 200);
    co_await wg.wait();
    CHECK(finished == 200);
    CHECK(wg.count() == 0);
  }(finished));
  CHECK(finished == 200);
}

task<void> wait_then_count(wait_group& wg, int& woken) {
  co_await wg.wait();
  ++woken;
}

TEST_CASE("wait_group: wakes every waiter; waiters are visible as wait_group") {
  runtime rt({.workers = 1});
  int woken = 0;
  rt.run([](runtime& rt, int& woken) -> task<void> {
    wait_group wg;
    wg.add(2);
    std::uint64_t ids[3];
    for (auto& id : ids) id = go(wait_then_count(wg, woken));
    co_await yield();
    snapshot snap = rt.take_snapshot();
    for (auto id : ids) {
      const auto* r = snap.find(id);
      REQUIRE(r);
      CHECK(r->state == goroutine_state::waiting);
      CHECK(r->reason == wait_reason::wait_group);
    }
    wg.done();
    co_await yield();
    CHECK(woken == 0);
    wg.done();
    co_await yield();
    CHECK(woken == 3);
  }(rt, woken));
}

TEST_CASE("wait_group: a negative counter is a logic error and leaves the counter alone") {
  wait_group wg;
  CHECK_THROWS_AS(wg.done(), std::logic_error);
  CHECK(wg.count() == 0);
  wg.add(2);
  CHECK_THROWS_AS(wg.add(-3), std::logic_error);
  CHECK(wg.count() == 2);
  wg.add(-2);
  CHECK(wg.count() == 0);
}

TEST_CASE("wait_group: a runtime destroyed while goroutines wait tears down cleanly") {
  runtime rt({.workers = 1});
  rt.run([](runtime& rt) -> task<void> {
    go([]() -> task<void> {
      wait_group wg;  // freed with this frame, possibly before the waiters' frames
      wg.add(1);
      int woken = 0;
      for (int i = 0; i < 3; ++i) go(wait_then_count(wg, woken));
      co_await wg.wait();
    }());
    while (testing::count_waiting(rt.take_snapshot(), wait_reason::wait_group) < 4)
      co_await yield();
  }(rt));
  CHECK(rt.live_goroutines() == 4);
}

TEST_CASE("wait_group: done from two workers") {
  runtime rt({.workers = 2});
  std::atomic<int> finished{0};
  int seen = 0;
  rt.run([](std::atomic<int>& finished, int& seen) -> task<void> {
    wait_group wg;
    constexpr int n = 500;
    wg.add(n);
    for (int i = 0; i < n; ++i) {
      go([](wait_group& wg, std::atomic<int>& finished) -> task<void> {
        co_await yield();
        finished.fetch_add(1, std::memory_order_relaxed);
        wg.done();
      }(wg, finished));
    }
    co_await wg.wait();
    seen = finished.load(std::memory_order_relaxed);
  }(finished, seen));
  CHECK(seen == 500);
}

TEST_CASE("wait_group: the waiter may destroy it as soon as wait returns") {
  // done() on one worker races with the waiter's return on the other: done() must not touch
  // the wait_group after releasing it (ASan/TSan catch a late access).
  runtime rt({.workers = 2});
  rt.run([]() -> task<void> {
    for (int i = 0; i < 300; ++i) {
      auto wg = std::make_unique<wait_group>();
      wg->add(1);
      go([](wait_group& wg) -> task<void> {
        wg.done();
        co_return;
      }(*wg));
      co_await wg->wait();
    }
  }());
}

}  // namespace
}  // namespace gprofid
