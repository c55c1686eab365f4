// Hand-off locality (issue 14): a goroutine woken by the running one runs next on the waker's
// worker (its runnext slot), while every primitive still wakes its waiters in FIFO order.
#include <doctest/doctest.h>

#include <atomic>
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

}  // namespace
}  // namespace gprofid
