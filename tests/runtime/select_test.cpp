#include "gprofid/select.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "gprofid/runtime.hpp"

namespace gprofid {
namespace {

TEST_CASE("select: fires the ready case and delivers its value") {
  runtime rt({.workers = 1});
  rt.run([]() -> task<void> {
    auto a = make_chan<int>(1);
    auto b = make_chan<std::string>(1);
    co_await b.send("hello");
    std::optional<int> x;
    std::optional<std::string> y;
    CHECK(co_await select(recv_case(a, x), recv_case(b, y)) == 1);
    CHECK_FALSE(x);
    CHECK(y == "hello");
    CHECK(co_await select(recv_case(b, y), send_case(a, 5)) == 1);
    CHECK(a.try_recv() == 5);
  }());
}

TEST_CASE("select: default fires only when nothing else is ready") {
  runtime rt({.workers = 1});
  rt.run([]() -> task<void> {
    auto a = make_chan<int>();
    auto b = make_chan<int>(1);
    std::optional<int> v;
    CHECK(co_await select(recv_case(a, v), default_case()) == 1);
    CHECK(co_await select(default_case(), send_case(a, 1)) == 0);  // no receiver: can't send
    CHECK(co_await select(default_case(), send_case(b, 1)) == 1);
    CHECK(co_await select(default_case(), send_case(b, 2)) == 0);  // buffer full
    CHECK(co_await select(recv_case(a, v), default_case(), recv_case(b, v)) == 2);
    CHECK(v == 1);
    chan<int> nil;
    CHECK(co_await select(recv_case(nil, v), send_case(nil, 3), default_case()) == 2);
    CHECK(co_await select(default_case()) == 0);
  }());
}

TEST_CASE("select: blocks until a case becomes ready, then leaves the other channels clean") {
  runtime rt({.workers = 1});
  rt.run([]() -> task<void> {
    auto a = make_chan<int>();
    auto b = make_chan<int>();
    go([](chan<int> b) -> task<void> { co_await b.send(7); }(b));
    std::optional<int> v;
    CHECK(co_await select(recv_case(a, v), recv_case(b, v)) == 1);
    CHECK(v == 7);
    // The waiter left on `a` is gone: a sender now has no receiver to hand off to.
    CHECK_FALSE(a.try_send(1));

    // A blocked send case fires when a receiver arrives.
    go([](chan<int> a) -> task<void> { CHECK(co_await a.recv() == 8); }(a));
    CHECK(co_await select(recv_case(b, v), send_case(a, 8)) == 1);
    co_await yield();
  }());
}

TEST_CASE("select: two selects complete each other") {
  runtime rt({.workers = 1});
  rt.run([]() -> task<void> {
    auto a = make_chan<int>();
    auto b = make_chan<int>();
    auto c = make_chan<int>();
    std::optional<int> got;
    int fired = -1;
    auto done = make_chan<int>(1);
    go([](chan<int> a, chan<int> b, chan<int> done, std::optional<int>& got,
          int& fired) -> task<void> {
      fired = co_await select(recv_case(a, got), recv_case(b, got));
      co_await done.send(0);
    }(a, b, done, got, fired));
    co_await yield();  // the first select parks on a and b
    CHECK(co_await select(send_case(c, 1), send_case(b, 2)) == 1);
    co_await done.recv();
    CHECK(fired == 1);
    CHECK(got == 2);
  }());
}

TEST_CASE("select: among ready cases the choice is roughly uniform") {
  runtime rt({.workers = 1});
  int counts[3] = {0, 0, 0};
  rt.run([](int* counts) -> task<void> {
    auto a = make_chan<int>(1);
    auto b = make_chan<int>(1);
    auto c = make_chan<int>(1);
    for (int i = 0; i < 3000; ++i) {
      a.try_send(0);
      b.try_send(1);
      c.try_send(2);
      std::optional<int> v;
      int k = co_await select(recv_case(a, v), recv_case(b, v), recv_case(c, v));
      CHECK(*v == k);
      ++counts[k];
    }
  }(counts));
  // Expect 1000 each; the standard deviation is about 26.
  for (int k = 0; k < 3; ++k) {
    CHECK(counts[k] > 850);
    CHECK(counts[k] < 1150);
  }
}

TEST_CASE("select: the same channel may appear in several cases") {
  runtime rt({.workers = 1});
  rt.run([]() -> task<void> {
    auto ch = make_chan<int>();
    std::optional<int> x, y;
    // Blocked on two receive cases of one channel: exactly one fires.
    go([](chan<int> ch) -> task<void> { co_await ch.send(1); }(ch));
    int k = co_await select(recv_case(ch, x), recv_case(ch, y));
    const auto& fired = k == 0 ? x : y;
    const auto& other = k == 0 ? y : x;
    CHECK(fired == 1);
    CHECK_FALSE(other);
    CHECK_FALSE(ch.try_send(2));  // no waiter left behind

    // A select must not rendezvous with itself on an unbuffered channel.
    CHECK(co_await select(send_case(ch, 3), recv_case(ch, x), default_case()) == 2);
    go([](chan<int> ch) -> task<void> { CHECK(co_await ch.recv() == 4); }(ch));
    CHECK(co_await select(recv_case(ch, x), send_case(ch, 4)) == 1);
    co_await yield();
  }());
}

TEST_CASE("select: closed channels fire; a send case on one throws") {
  runtime rt({.workers = 1});
  rt.run([]() -> task<void> {
    auto a = make_chan<int>();
    auto b = make_chan<int>();
    bool woke_closed = false;
    auto done = make_chan<int>(1);
    go([](chan<int> a, chan<int> b, chan<int> done, bool& woke_closed) -> task<void> {
      std::optional<int> v = 1;
      woke_closed = co_await select(recv_case(a, v), recv_case(b, v)) == 0 && !v;
      co_await done.send(0);
    }(a, b, done, woke_closed));
    co_await yield();
    a.close();  // wakes the parked select
    co_await done.recv();
    CHECK(woke_closed);

    std::optional<int> v;
    CHECK(co_await select(recv_case(b, v), recv_case(a, v)) == 1);
    CHECK_THROWS_AS(co_await select(send_case(a, 1), recv_case(b, v)), channel_closed);

    // A parked send case fails when its channel is closed under it.
    bool threw = false;
    go([](chan<int> b, chan<int> done, bool& threw) -> task<void> {
      try {
        co_await select(send_case(b, 1));
      } catch (const channel_closed&) {
        threw = true;
      }
      co_await done.send(0);
    }(b, done, threw));
    co_await yield();
    b.close();
    co_await done.recv();
    CHECK(threw);
  }());
}

TEST_CASE("select: recv_case without a destination discards the value") {
  runtime rt({.workers = 1});
  rt.run([]() -> task<void> {
    auto tick = make_chan<long>(1);
    tick.try_send(10);
    CHECK(co_await select(recv_case(tick), default_case()) == 0);
    CHECK(tick.len() == 0);
  }());
}

TEST_CASE("select: wait reasons while parked") {
  runtime rt({.workers = 1});
  snapshot snap;
  std::uint64_t waiting = 0, no_cases = 0, only_nil = 0;
  rt.run([](runtime& rt, snapshot& snap, std::uint64_t& waiting, std::uint64_t& no_cases,
            std::uint64_t& only_nil) -> task<void> {
    auto a = make_chan<int>();
    waiting =
        go([](chan<int> a) -> task<void> { co_await select(recv_case(a), send_case(a, 1)); }(a));
    no_cases = go([]() -> task<void> { co_await select(); }());
    only_nil = go([]() -> task<void> {
      chan<int> nil;
      co_await select(recv_case(nil), send_case(nil, 1));
    }());
    co_await yield();
    snap = rt.take_snapshot();
  }(rt, snap, waiting, no_cases, only_nil));
  for (auto [id, why] :
       {std::pair{waiting, wait_reason::select}, std::pair{no_cases, wait_reason::select_no_cases},
        std::pair{only_nil, wait_reason::select}}) {
    const auto* r = snap.find(id);
    REQUIRE(r);
    CHECK(r->state == goroutine_state::waiting);
    CHECK(r->reason == why);
  }
}

// Which case fired in each of `n` selects between two closed (so always ready) channels, on one
// worker of a runtime with `options`.
std::vector<int> choices(runtime_options options, int n) {
  std::vector<int> out;
  runtime rt(std::move(options));
  rt.run([](std::vector<int>& out, int n) -> task<void> {
    auto a = make_chan<int>();
    auto b = make_chan<int>();
    a.close();
    b.close();
    for (int i = 0; i < n; ++i) out.push_back(co_await select(recv_case(a), recv_case(b)));
  }(out, n));
  return out;
}

TEST_CASE("select: a seed replays the same choices") {
  const auto first = choices({.workers = 1, .select_seed = 42}, 64);
  CHECK(first == choices({.workers = 1, .select_seed = 42}, 64));
  CHECK(first != choices({.workers = 1, .select_seed = 43}, 64));
  // Still a fair coin: both cases fire (64 equal choices have probability 2^-63).
  CHECK(std::count(first.begin(), first.end(), 0) > 0);
  CHECK(std::count(first.begin(), first.end(), 1) > 0);
  // The environment seeds a runtime whose options do not.
  setenv("GPROFID_SELECT_SEED", "42", 1);
  const auto from_env = choices({.workers = 1}, 64);
  unsetenv("GPROFID_SELECT_SEED");
  CHECK(from_env == first);
}

}  // namespace
}  // namespace gprofid
