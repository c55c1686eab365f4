// Hand-off locality (issue 14): a goroutine woken by the running one runs next on the waker's
// worker (its runnext slot), while every primitive still wakes its waiters in FIFO order.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "gprofid/channel.hpp"
#include "gprofid/event.hpp"
#include "gprofid/runtime.hpp"
#include "gprofid/wait_group.hpp"

namespace gprofid {
namespace {

// Where each hop of a ping-pong pair ran; the pair alternates strictly, so plain fields do.
struct hops {
  std::thread::id last{};
  int moves = 0;
  void note() {
    const auto here = std::this_thread::get_id();
    if (last != std::thread::id{} && here != last) ++moves;
    last = here;
  }
};

TEST_CASE("handoff: a ping-pong pair stays on one worker of two") {
  constexpr int rounds = 20000;
  hops h;
  runtime rt({.workers = 2});
  rt.run([](hops& h) -> task<void> {
    auto ping = make_chan<int>(), pong = make_chan<int>();
    wait_group done;
    done.add(1);
    go([](chan<int> ping, chan<int> pong, hops& h, wait_group& done) -> task<void> {
      for (int i = 0; i < rounds; ++i) {
        auto v = co_await ping.recv();
        h.note();
        co_await pong.send(*v);
      }
      done.done();
    }(ping, pong, h, done));
    for (int i = 0; i < rounds; ++i) {
      h.note();
      co_await ping.send(i);
      co_await pong.recv();
    }
    co_await done.wait();
  }(h));
  // Before runnext a hand-off woke the idle worker, which stole the woken goroutine (557 of 40000
  // hops moved on a machine at load 6, more when it is quiet). A few
  // moves remain possible: a worker descheduled by the OS mid-hop leaves its runnext to be stolen.
  MESSAGE(h.moves << " of " << 2 * rounds << " hops changed worker");
  CHECK(h.moves < 2 * rounds / 200);
}

TEST_CASE("handoff: waiters woken together run in FIFO order, the first one next") {
  std::vector<int> order;
  runtime rt({.workers = 1});
  rt.run([](std::vector<int>& order) -> task<void> {
    event e;
    for (int i = 0; i < 4; ++i) {
      go([](event& e, int i, std::vector<int>& order) -> task<void> {
        co_await e.wait();
        order.push_back(i);
      }(e, i, order));
    }
    co_await yield();  // all four wait
    // Queued before the wake-up: the first waiter runs ahead of it (runnext), the other waiters
    // behind it, in the order they waited.
    go([](std::vector<int>& order) -> task<void> {
      order.push_back(100);
      co_return;
    }(order));
    e.set();
    co_await yield();
    CHECK(order == std::vector<int>{0, 100, 1, 2, 3});
  }(order));
}

TEST_CASE("handoff: a woken goroutine whose waker keeps running is taken by an idle worker") {
  // The waker computes for a long time after waking: the runnext slot goes stale and the other
  // worker steals it instead of waiting for the waker's run to end.
  runtime rt({.workers = 2});
  std::atomic<bool> woken_ran{false};
  rt.run([](std::atomic<bool>& woken_ran) -> task<void> {
    event e;
    wait_group done;
    done.add(1);
    go([](event& e, std::atomic<bool>& woken_ran, wait_group& done) -> task<void> {
      co_await e.wait();
      woken_ran.store(true);
      done.done();
    }(e, woken_ran, done));
    co_await yield();  // it waits (or is about to: set() handles both)
    e.set();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!woken_ran.load() && std::chrono::steady_clock::now() < deadline) {
    }
    CHECK(woken_ran.load());
    co_await done.wait();
  }(woken_ran));
}

// A waiter of the bursts below: computes ~2 us (64 of them stay inside the 200 us grace), notes
// whether it ran where its waker ran.
task<void> burst_waiter(event& e, const std::thread::id& waker, std::atomic<int>& moved,
                        wait_group& done) {
  co_await e.wait();
  const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(2);
  while (std::chrono::steady_clock::now() < until) {
  }
  if (std::this_thread::get_id() != waker) moved.fetch_add(1);
  done.done();
}

TEST_CASE("handoff: goroutines woken together stay on the waker's worker while it switches") {
  // One runs next (runnext), the others queue behind it unannounced: the other worker, idle,
  // is not woken to take them and would only contend with this one on what they share.
  static constexpr int bursts = 40, waiters = 64;
  std::atomic<int> moved{0};
  runtime rt({.workers = 2});
  rt.run([](std::atomic<int>& moved) -> task<void> {
    for (int b = 0; b < bursts; ++b) {
      auto e = std::make_unique<event>();
      wait_group done;
      done.add(waiters);
      std::thread::id waker;
      for (int i = 0; i < waiters; ++i) go(burst_waiter(*e, waker, moved, done));
      co_await yield();  // spawned ones may be stolen at once: let them all wait first
      co_await yield();
      waker = std::this_thread::get_id();
      e->set();
      co_await done.wait();
    }
  }(moved));
  // Before (every queued wake-up woke the idle worker, which stole half the queue): 1280, 1263
  // and 36 of 2560 moved (load 3-5); after: 5-109. A worker the OS deschedules for longer than
  // the grace has its queue taken, rightly: some moves remain possible.
  MESSAGE(moved.load() << " of " << bursts * waiters << " woken goroutines changed worker");
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  // Not under the sanitizers: their switches are several times slower, so a burst outlasts the
  // 200 us grace and is taken by design (151 and 853 of 2560 in two TSan runs).
  CHECK(moved.load() < bursts * waiters / 5);
#endif
}

TEST_CASE("handoff: goroutines queued behind a waker that keeps running are taken after a grace") {
  static constexpr int waiters = 8;
  std::atomic<int> ran{0};
  runtime rt({.workers = 2});
  rt.run([](std::atomic<int>& ran) -> task<void> {
    event e;
    wait_group done;
    done.add(waiters);
    for (int i = 0; i < waiters; ++i) {
      go([](event& e, std::atomic<int>& ran, wait_group& done) -> task<void> {
        co_await e.wait();
        ran.fetch_add(1);
        done.done();
      }(e, ran, done));
    }
    co_await yield();
    co_await yield();
    e.set();
    // Never suspends until all ran: only the idle worker can run them.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (ran.load() < waiters && std::chrono::steady_clock::now() < deadline) {
    }
    CHECK(ran.load() == waiters);
    co_await done.wait();
  }(ran));
}

}  // namespace
}  // namespace gprofid
