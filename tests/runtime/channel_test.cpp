#include "gprofid/channel.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gprofid/runtime.hpp"
#include "gprofid/select.hpp"
#include "tests/runtime/test_support.hpp"

namespace gprofid {
namespace {

task<void> receive_into(chan<int> ch, std::vector<std::string>& log) {
  for (;;) {
    auto v = co_await ch.recv();
    if (!v) break;
    log.push_back("recv " + std::to_string(*v));
  }
  log.push_back("closed");
}

TEST_CASE("channel: unbuffered send blocks until a receiver takes the value") {
  runtime rt({.workers = 1});
  std::vector<std::string> log;
  rt.run([](std::vector<std::string>& log) -> task<void> {
    auto ch = make_chan<int>();
    CHECK(ch.cap() == 0);
    go(receive_into(ch, log));
    for (int i = 1; i <= 3; ++i) {
      log.push_back("send " + std::to_string(i));
      co_await ch.send(i);
      log.push_back("sent " + std::to_string(i));
    }
    ch.close();
    co_await yield();
  }(log));
  // Send 1 blocks until the receiver first runs; send 2 finds it parked and hands off without
  // blocking; send 3 blocks again because the receiver has not run since.
  CHECK(log == std::vector<std::string>{"send 1", "recv 1", "sent 1", "send 2", "sent 2", "send 3",
                                        "recv 2", "recv 3", "sent 3", "closed"});
}

TEST_CASE("channel: buffered values keep their order, including those of blocked senders") {
  runtime rt({.workers = 1});
  std::vector<int> got;
  rt.run([](std::vector<int>& got) -> task<void> {
    auto ch = make_chan<int>(3);
    for (int i = 0; i < 3; ++i) co_await ch.send(i);  // fits: never blocks
    CHECK(ch.len() == 3);
    CHECK(ch.cap() == 3);
    CHECK_FALSE(ch.try_send(99));
    // Two senders block on the full buffer, in this order.
    go([](chan<int> ch) -> task<void> { co_await ch.send(3); }(ch));
    go([](chan<int> ch) -> task<void> { co_await ch.send(4); }(ch));
    co_await yield();
    CHECK(ch.len() == 3);
    for (int i = 0; i < 5; ++i) got.push_back(*co_await ch.recv());
    CHECK(ch.len() == 0);
    CHECK_FALSE(ch.try_recv());
  }(got));
  CHECK(got == std::vector<int>{0, 1, 2, 3, 4});
}

TEST_CASE("channel: blocked receivers are served first come, first served") {
  runtime rt({.workers = 1});
  std::vector<std::pair<int, int>> got;  // (receiver, value)
  rt.run([](std::vector<std::pair<int, int>>& got) -> task<void> {
    auto ch = make_chan<int>();
    auto done = make_chan<int>(5);
    for (int r = 0; r < 5; ++r) {
      go([](int r, chan<int> ch, chan<int> done,
            std::vector<std::pair<int, int>>& got) -> task<void> {
        got.emplace_back(r, *co_await ch.recv());
        co_await done.send(r);
      }(r, ch, done, got));
      co_await yield();  // receiver r parks before receiver r+1 exists
    }
    for (int v = 100; v < 105; ++v) CHECK(ch.try_send(v));
    for (int r = 0; r < 5; ++r) co_await done.recv();
  }(got));
  CHECK(got == std::vector<std::pair<int, int>>{{0, 100}, {1, 101}, {2, 102}, {3, 103}, {4, 104}});
}

TEST_CASE("channel: blocked senders are served first come, first served") {
  runtime rt({.workers = 1});
  std::vector<int> got;
  rt.run([](std::vector<int>& got) -> task<void> {
    auto ch = make_chan<int>();
    for (int s = 0; s < 5; ++s) {
      go([](int s, chan<int> ch) -> task<void> { co_await ch.send(s); }(s, ch));
      co_await yield();
    }
    for (int i = 0; i < 5; ++i) got.push_back(*ch.try_recv());
    CHECK_FALSE(ch.try_recv());
  }(got));
  CHECK(got == std::vector<int>{0, 1, 2, 3, 4});
}

TEST_CASE("channel: close drains the buffer, then yields nullopt; senders throw") {
  runtime rt({.workers = 1});
  rt.run([]() -> task<void> {
    auto ch = make_chan<std::string>(2);
    co_await ch.send("a");
    co_await ch.send("b");
    bool sender_threw = false;
    go([](chan<std::string> ch, bool& threw) -> task<void> {
      try {
        co_await ch.send("blocked");
      } catch (const channel_closed&) {
        threw = true;
      }
    }(ch, sender_threw));
    co_await yield();
    CHECK_FALSE(ch.closed());
    ch.close();
    CHECK(ch.closed());
    co_await yield();
    CHECK(sender_threw);
    CHECK(*co_await ch.recv() == "a");
    CHECK(*ch.try_recv() == "b");
    CHECK_FALSE(co_await ch.recv());
    CHECK_FALSE(co_await ch.recv());
    CHECK_FALSE(ch.try_recv());
    CHECK_THROWS_AS(co_await ch.send("late"), channel_closed);
    CHECK_THROWS_AS(ch.try_send("late"), channel_closed);
    CHECK_THROWS_AS(ch.close(), channel_closed);
    CHECK_THROWS_AS(chan<int>{}.close(), channel_closed);
  }());
}

TEST_CASE("channel: close wakes every blocked receiver with nullopt") {
  runtime rt({.workers = 1});
  int woken = 0;
  rt.run([](int& woken) -> task<void> {
    auto ch = make_chan<int>();
    auto done = make_chan<int>(3);
    for (int i = 0; i < 3; ++i) {
      go([](chan<int> ch, chan<int> done, int& woken) -> task<void> {
        if (!co_await ch.recv()) ++woken;
        co_await done.send(0);
      }(ch, done, woken));
    }
    co_await yield();
    ch.close();
    for (int i = 0; i < 3; ++i) co_await done.recv();
  }(woken));
  CHECK(woken == 3);
}

TEST_CASE("channel: nil channels block forever; wait reasons show in snapshots") {
  runtime rt({.workers = 1});
  snapshot snap;
  std::uint64_t nil_recv = 0, nil_send = 0, recv = 0, send = 0;
  rt.run([](runtime& rt, snapshot& snap, std::uint64_t& nil_recv, std::uint64_t& nil_send,
            std::uint64_t& recv, std::uint64_t& send) -> task<void> {
    chan<int> nil;
    CHECK_FALSE(nil);
    CHECK(nil.len() == 0);
    CHECK(nil.cap() == 0);
    CHECK_FALSE(nil.try_send(1));
    CHECK_FALSE(nil.try_recv());
    auto ch = make_chan<int>();
    CHECK(ch);
    CHECK(ch != nil);
    auto full = make_chan<int>(1);
    CHECK(full.try_send(1));
    nil_recv = go([](chan<int> c) -> task<void> { co_await c.recv(); }(nil));
    nil_send = go([](chan<int> c) -> task<void> { co_await c.send(1); }(nil));
    recv = go([](chan<int> c) -> task<void> { co_await c.recv(); }(ch));
    send = go([](chan<int> c) -> task<void> { co_await c.send(2); }(full));
    co_await yield();
    snap = rt.take_snapshot();
  }(rt, snap, nil_recv, nil_send, recv, send));
  auto check = [&](std::uint64_t id, wait_reason why) {
    const auto* r = snap.find(id);
    REQUIRE(r);
    CHECK(r->state == goroutine_state::waiting);
    CHECK(r->reason == why);
  };
  check(nil_recv, wait_reason::chan_receive_nil);
  check(nil_send, wait_reason::chan_send_nil);
  check(recv, wait_reason::chan_receive);
  check(send, wait_reason::chan_send);
  // The runtime now frees the four goroutines while they are still queued on the channels.
}

TEST_CASE("channel: try_send from a thread outside the runtime wakes a parked receiver") {
  runtime rt({.workers = 1});
  int got = 0;
  std::thread outside;
  rt.run([](int& got, std::thread& outside) -> task<void> {
    auto ch = make_chan<int>();
    // Succeeds only once the receiver below is parked (unbuffered: no buffer to fill).
    outside = std::thread([ch] {
      while (!ch.try_send(42)) std::this_thread::yield();
    });
    got = *co_await ch.recv();
  }(got, outside));
  outside.join();
  CHECK(got == 42);
}

TEST_CASE("channel: values are moved, never copied") {
  runtime rt({.workers = 1});
  rt.run([]() -> task<void> {
    auto ch = make_chan<std::unique_ptr<int>>(1);
    co_await ch.send(std::make_unique<int>(7));
    auto v = co_await ch.recv();
    REQUIRE(v);
    CHECK(**v == 7);
    auto unbuffered = make_chan<std::unique_ptr<int>>();
    go([](chan<std::unique_ptr<int>> c) -> task<void> {
      co_await c.send(std::make_unique<int>(8));
    }(unbuffered));
    CHECK(**co_await unbuffered.recv() == 8);
  }());
}

TEST_CASE("channel: a runtime destroyed while goroutines wait on channels frees everything") {
  testing::tracked::reset();
  // Declared before the runtime: outlives the goroutines queued on it.
  auto outer = make_chan<std::shared_ptr<testing::tracked>>(1);
  {
    runtime rt({.workers = 1});
    rt.run([](chan<std::shared_ptr<testing::tracked>> outer) -> task<void> {
      co_await outer.send(std::make_shared<testing::tracked>());  // stays in the buffer
      go([](chan<std::shared_ptr<testing::tracked>> c) -> task<void> {
        co_await c.send(std::make_shared<testing::tracked>());  // blocks: buffer full
      }(outer));
      // Reachable only from the frames of the goroutines blocked on it.
      auto inner = make_chan<std::shared_ptr<testing::tracked>>();
      go([](chan<std::shared_ptr<testing::tracked>> c) -> task<void> {
        co_await c.send(std::make_shared<testing::tracked>());
      }(inner));
      go([](chan<std::shared_ptr<testing::tracked>> a, chan<int> b) -> task<void> {
        co_await select(send_case(a, std::make_shared<testing::tracked>()), recv_case(b));
      }(inner, make_chan<int>()));
      co_await yield();
      CHECK(testing::tracked::alive == 4);
    }(outer));
  }
  CHECK(testing::tracked::alive == 1);  // the buffered value
  CHECK(outer.len() == 1);
  outer = {};
  CHECK(testing::tracked::alive == 0);
}

TEST_CASE("channel: non-blocking operations work without any runtime") {
  auto ch = make_chan<int>(1);
  CHECK(ch.try_send(1));
  CHECK_FALSE(ch.try_send(2));
  CHECK(*ch.try_recv() == 1);
}

}  // namespace
}  // namespace gprofid
