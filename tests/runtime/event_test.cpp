#include "gprofid/event.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>

#include "gprofid/runtime.hpp"
#include "gprofid/wait_group.hpp"
#include "tests/runtime/test_support.hpp"

namespace gprofid {
namespace {

task<void> wait_then_count(event& e, int& woken) {
  co_await e.wait();
  ++woken;
}

TEST_CASE("event: set wakes every waiter; later waits return at once") {
  runtime rt({.workers = 1});
  int woken = 0;
  rt.run([](runtime& rt, int& woken) -> task<void> {
    event e;
    CHECK_FALSE(e.is_set());
    std::uint64_t ids[10];
    for (auto& id : ids) id = go(wait_then_count(e, woken));
    co_await yield();
    snapshot snap = rt.take_snapshot();
    for (auto id : ids) {
      const auto* r = snap.find(id);
      REQUIRE(r);
      CHECK(r->state == goroutine_state::waiting);
      CHECK(r->reason == wait_reason::event);
    }
    CHECK(woken == 0);
    e.set();
    e.set();  // idempotent
    CHECK(e.is_set());
    co_await yield();
    CHECK(woken == 10);
    co_await e.wait();  // already set
  }(rt, woken));
  CHECK(woken == 10);
}

TEST_CASE("event: set from a thread outside the runtime") {
  runtime rt({.workers = 2});
  std::atomic<int> woken{0};
  int seen = 0;
  rt.run([](std::atomic<int>& woken, int& seen) -> task<void> {
    event e;
    wait_group wg;
    wg.add(20);
    for (int i = 0; i < 20; ++i) {
      go([](event& e, wait_group& wg, std::atomic<int>& woken) -> task<void> {
        co_await e.wait();
        woken.fetch_add(1, std::memory_order_relaxed);
        wg.done();
      }(e, wg, woken));
    }
    std::thread setter([&e] { e.set(); });
    co_await e.wait();
    co_await wg.wait();
    setter.join();
    seen = woken.load(std::memory_order_relaxed);
  }(woken, seen));
  CHECK(seen == 20);
}

TEST_CASE("event: a runtime destroyed while goroutines wait tears down cleanly") {
  runtime rt({.workers = 1});
  int woken = 0;
  rt.run([](runtime& rt, int& woken) -> task<void> {
    go([](int& woken) -> task<void> {
      event e;  // freed with this frame, possibly before the waiters' frames
      for (int i = 0; i < 3; ++i) go(wait_then_count(e, woken));
      co_await e.wait();
    }(woken));
    while (testing::count_waiting(rt.take_snapshot(), wait_reason::event) < 4) co_await yield();
  }(rt, woken));
  CHECK(woken == 0);
  CHECK(rt.live_goroutines() == 4);
}

TEST_CASE("event: the waiter may destroy it as soon as wait returns") {
  // set() on one worker races with the waiter's return on the other: set() must not touch the
  // event after releasing it (ASan/TSan catch a late access).
  runtime rt({.workers = 2});
  rt.run([]() -> task<void> {
    for (int i = 0; i < 300; ++i) {
      auto e = std::make_unique<event>();
      go([](event& e) -> task<void> {
        e.set();
        co_return;
      }(*e));
      co_await e->wait();
    }
  }());
}

}  // namespace
}  // namespace gprofid
