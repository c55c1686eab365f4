#include "gprofid/mutex.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <source_location>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "gprofid/event.hpp"
#include "gprofid/runtime.hpp"
#include "gprofid/wait_group.hpp"
#include "tests/runtime/test_support.hpp"

namespace gprofid {
namespace {

task<void> critical_section(mutex& m, int& inside, int& max_inside, int rounds) {
  for (int i = 0; i < rounds; ++i) {
    co_await m.lock();
    ++inside;
    max_inside = std::max(max_inside, inside);
    co_await yield();  // invite the others in while holding the lock
    --inside;
    m.unlock();
  }
}

TEST_CASE("mutex: mutual exclusion across yields") {
  runtime rt({.workers = 1});
  int inside = 0;
  int max_inside = 0;
  rt.run([](int& inside, int& max_inside) -> task<void> {
    mutex m;
    wait_group wg;
    wg.add(5);
    for (int i = 0; i < 5; ++i) {
      go([](mutex& m, wait_group& wg, int& inside, int& max_inside) -> task<void> {
        co_await critical_section(m, inside, max_inside, 10);
        wg.done();
      }(m, wg, inside, max_inside));
    }
    co_await wg.wait();
    CHECK_FALSE(m.is_locked());
  }(inside, max_inside));
  CHECK(inside == 0);
  CHECK(max_inside == 1);
}

task<void> append_under(mutex& m, std::vector<int>& order, int who) {
  co_await m.lock();
  order.push_back(who);
  m.unlock();
}

TEST_CASE("mutex: waiters get the lock in FIFO order, and unlock hands off (no barging)") {
  runtime rt({.workers = 1});
  std::vector<int> order;
  rt.run([](std::vector<int>& order) -> task<void> {
    mutex m;
    co_await m.lock();
    for (int who = 1; who <= 4; ++who) go(append_under(m, order, who));
    co_await yield();  // each goroutine runs once and queues on the mutex, in spawn order
    CHECK(order.empty());
    m.unlock();
    // The lock now belongs to waiter 1 although it has not run yet: a newcomer must queue.
    CHECK_FALSE(m.try_lock());
    co_await append_under(m, order, 0);
  }(order));
  CHECK(order == std::vector<int>{1, 2, 3, 4, 0});
}

TEST_CASE("mutex: owner_site is where the holder locked it, also when the lock is handed over") {
  runtime rt({.workers = 1});
  rt.run([]() -> task<void> {
    mutex m;
    const std::uint32_t here = std::source_location::current().line();
    co_await m.lock();  // here + 1
    CHECK(m.owner_site().line() == here + 1);
    CHECK(std::string_view(m.owner_site().file_name()).ends_with("mutex_test.cpp"));
    event took;
    go([](mutex& m, event& took) -> task<void> {
      auto guard = co_await m.scoped_lock();  // queues; gets the lock from unlock() below
      took.set();
    }(m, took));
    co_await yield();  // it runs and parks on the mutex
    const std::uint32_t waiter_line = here + 6;
    m.unlock();  // hands the lock to the waiter: its scoped_lock() line becomes the site
    CHECK(m.owner_site().line() == waiter_line);
    co_await took.wait();
    CHECK(m.try_lock());  // here + 14
    CHECK(m.owner_site().line() == here + 14);
    m.unlock();
  }());
}

TEST_CASE("mutex: try_lock, and unlock of an unlocked mutex is a logic error") {
  mutex m;
  CHECK(m.try_lock());
  CHECK_FALSE(m.try_lock());
  CHECK(m.is_locked());
  m.unlock();
  CHECK_FALSE(m.is_locked());
  CHECK(m.try_lock());
  m.unlock();
  CHECK_THROWS_AS(m.unlock(), std::logic_error);
}

TEST_CASE("mutex: scoped_lock guard unlocks on destruction, moves, and unlocks early") {
  runtime rt({.workers = 1});
  rt.run([]() -> task<void> {
    mutex m;
    {
      auto guard = co_await m.scoped_lock();
      CHECK(guard.owns_lock());
      CHECK(guard.get() == &m);
      CHECK(m.is_locked());
      mutex_guard moved = std::move(guard);
      CHECK_FALSE(guard.owns_lock());
      CHECK(moved);
      CHECK(m.is_locked());
    }
    CHECK_FALSE(m.is_locked());

    auto guard = co_await m.scoped_lock();
    guard.unlock();
    CHECK_FALSE(guard.owns_lock());
    CHECK_FALSE(m.is_locked());

    // A guard released while another goroutine waits passes the lock on.
    guard = co_await m.scoped_lock();
    bool got = false;
    go([](mutex& m, bool& got) -> task<void> {
      auto g = co_await m.scoped_lock();
      got = true;
    }(m, got));
    co_await yield();
    CHECK_FALSE(got);
    guard = mutex_guard();  // move-assigning releases the old lock
    co_await yield();
    CHECK(got);
    CHECK_FALSE(m.is_locked());
  }());
}

TEST_CASE("mutex: a blocked locker is visible in snapshots as waiting on mutex_lock") {
  runtime rt({.workers = 1});
  rt.run([](runtime& rt) -> task<void> {
    mutex m;
    co_await m.lock();
    std::vector<int> order;
    auto id = go(append_under(m, order, 7));
    co_await yield();
    snapshot snap = rt.take_snapshot();
    const auto* r = snap.find(id);
    REQUIRE(r);
    CHECK(r->state == goroutine_state::waiting);
    CHECK(r->reason == wait_reason::mutex_lock);
    CHECK(r->wait_since_ns > 0);
    m.unlock();
    co_await yield();
    CHECK(order == std::vector<int>{7});
  }(rt));
}

task<void> hold_and_wait(mutex& m, event& never, event& holding) {
  auto guard = co_await m.scoped_lock();
  holding.set();
  co_await never.wait();
}

task<void> block_on(mutex& m) {
  co_await m.lock();
  m.unlock();
}

TEST_CASE("mutex: a runtime destroyed with a holder and waiters tears down cleanly") {
  // The mutex lives in the holder's frame, which is freed in no particular order relative to the
  // waiters' frames; the guard's destructor must not hand the lock to a freed waiter.
  runtime rt({.workers = 1});
  rt.run([](runtime& rt) -> task<void> {
    go([]() -> task<void> {
      mutex m;
      event never;
      event holding;
      go(hold_and_wait(m, never, holding));
      co_await holding.wait();
      for (int i = 0; i < 3; ++i) go(block_on(m));
      co_await never.wait();
    }());
    while (testing::count_waiting(rt.take_snapshot(), wait_reason::mutex_lock) < 3)
      co_await yield();
  }(rt));
  CHECK(rt.live_goroutines() == 5);
}

// ThreadSanitizer makes every lock handoff ~20x dearer; it still sees 1000 contending goroutines.
#ifdef __SANITIZE_THREAD__
constexpr int increments_each = 100;
#else
constexpr int increments_each = 1000;
#endif

TEST_CASE("mutex: 1000 goroutines x 1000 increments on 2 workers") {
  runtime rt({.workers = 2});
  long counter = 0;
  rt.run([](long& counter) -> task<void> {
    mutex m;
    wait_group wg;
    constexpr int goroutines = 1000;
    wg.add(goroutines);
    for (int i = 0; i < goroutines; ++i) {
      go([](mutex& m, wait_group& wg, long& counter) -> task<void> {
        for (int k = 0; k < increments_each; ++k) {
          auto guard = co_await m.scoped_lock();
          ++counter;
        }
        wg.done();
      }(m, wg, counter));
    }
    co_await wg.wait();
  }(counter));
  CHECK(counter == 1000L * increments_each);
}

}  // namespace
}  // namespace gprofid
