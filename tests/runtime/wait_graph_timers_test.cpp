// Timers and descriptors in the wait-for graph: a sleeper, a timer channel's receiver and a
// goroutine parked in the I/O poller each name an object with a stable id and its state
// (docs/wait-graph.md, "What the runtime records"). One worker and a manual timer clock.
#include <doctest/doctest.h>

#include <chrono>
#include <cstddef>
#include <vector>

#include "gprofid/channel.hpp"
#include "gprofid/net.hpp"
#include "gprofid/runtime.hpp"
#include "gprofid/select.hpp"
#include "gprofid/sleep.hpp"
#include "gprofid/snapshot.hpp"
#include "gprofid/timer_channel.hpp"
#include "test_support.hpp"

namespace gprofid {
namespace {

using namespace std::chrono_literals;
constexpr std::int64_t hour_ns = 3'600'000'000'000;

using testing::object_by_id;
using testing::object_of;

// Lets every other goroutine run until it parks (one worker: each runs once per yield).
task<void> let_others_park() {
  for (int i = 0; i < 4; ++i) co_await yield();
}

task<void> sleep_an_hour(chan<int> held) {
  co_await sleep_for(1h);
  (void)held;
}

TEST_CASE("wait graph: a sleeper waits on a timer that says when it fires") {
  runtime rt({.workers = 1, .manual_clock = true});
  rt.run([](runtime& rt) -> task<void> {
    auto c = make_chan<int>();
    const std::int64_t start = rt.now_ns();
    const std::uint64_t sleeper = go(sleep_an_hour(c));
    const std::uint64_t receiver = go([](chan<int> c) -> task<void> { co_await c.recv(); }(c));
    c = {};
    co_await let_others_park();
    const snapshot a = rt.take_snapshot();
    const wait_object* t = object_of(a, sleeper);
    REQUIRE(t);
    CHECK(t->kind == wait_object_kind::timer);
    CHECK(t->when_ns == start + hour_ns);
    CHECK(t->period_ns == 0);
    // The sleeper is parked on a graph object now: the handle in its frame is attributed to it.
    const wait_object* ch = object_of(a, receiver);
    REQUIRE(ch);
    CHECK(ch->handles == 2);
    CHECK(ch->held_by == std::vector<std::uint64_t>{sleeper, receiver});

    rt.advance_clock(30min);  // not due yet: the same timer, the same deadline
    const snapshot b = rt.take_snapshot();
    REQUIRE(object_of(b, sleeper));
    CHECK(b.find(sleeper)->blocked_on == a.find(sleeper)->blocked_on);
    CHECK(object_of(b, sleeper)->when_ns == start + hour_ns);
  }(rt));
}

TEST_CASE("wait graph: a timer channel names its pending timer, in a select too") {
  runtime rt({.workers = 1, .manual_clock = true});
  rt.run([](runtime& rt) -> task<void> {
    const std::int64_t start = rt.now_ns();
    const std::uint64_t receiver = go([]() -> task<void> { co_await after(1h).recv(); }());
    const std::uint64_t selecting = go([]() -> task<void> {
      auto own = make_chan<int>();
      co_await select(recv_case(own), recv_case(after(2h)));
    }());
    co_await let_others_park();
    const snapshot s = rt.take_snapshot();
    const wait_object* c = object_of(s, receiver);
    REQUIRE(c);
    CHECK(c->kind == wait_object_kind::channel);
    const wait_object* t = object_by_id(s, c->timer);
    REQUIRE(t);
    CHECK(t->kind == wait_object_kind::timer);
    CHECK(t->when_ns == start + hour_ns);

    const wait_object* sel = object_of(s, selecting);
    REQUIRE(sel);
    REQUIRE(sel->cases.size() == 2);
    int timed = 0;
    for (std::uint64_t id : sel->cases) {
      const wait_object* ch = object_by_id(s, id);
      REQUIRE(ch);
      if (ch->timer == 0) continue;
      ++timed;
      const wait_object* st = object_by_id(s, ch->timer);
      REQUIRE(st);
      CHECK(st->when_ns == start + 2 * hour_ns);
    }
    CHECK(timed == 1);
    rt.advance_clock(2h);  // both fire: their goroutines end
  }(rt));
}

TEST_CASE("wait graph: a ticker's timer moves on with each tick and goes with stop()") {
  runtime rt({.workers = 1, .manual_clock = true});
  rt.run([](runtime& rt) -> task<void> {
    const std::int64_t start = rt.now_ns();
    ticker t(10ms);
    chan<std::int64_t> ticks = t.c();
    const std::uint64_t id = go([](chan<std::int64_t> c) -> task<void> {
      for (;;) {
        if (!co_await c.recv()) co_return;
      }
    }(ticks));
    co_await let_others_park();
    const snapshot a = rt.take_snapshot();
    const wait_object* c = object_of(a, id);
    REQUIRE(c);
    const wait_object* timer = object_by_id(a, c->timer);
    REQUIRE(timer);
    CHECK(timer->when_ns == start + 10'000'000);
    CHECK(timer->period_ns == 10'000'000);

    rt.advance_clock(10ms);  // one tick: received, the timer re-armed
    co_await let_others_park();
    const snapshot b = rt.take_snapshot();
    REQUIRE(object_of(b, id));
    CHECK(object_of(b, id)->timer == c->timer);  // the same timer, later
    CHECK(object_by_id(b, c->timer)->when_ns == start + 20'000'000);

    t.stop();
    const snapshot d = rt.take_snapshot();
    REQUIRE(object_of(d, id));
    CHECK(object_of(d, id)->timer == 0);
    ticks.close();
  }(rt));
}

task<void> accept_forever(tcp_listener l) {
  for (;;) (void)co_await l.accept();
}

task<void> read_forever(tcp_stream s, tcp_stream peer) {
  std::vector<std::byte> buf(64);
  while (co_await s.read(buf) != 0) {
  }
  (void)peer;  // kept open: nothing is ever sent
}

task<void> write_forever(tcp_stream s, tcp_stream peer) {
  // The peer never reads: the socket buffers fill and the write parks.
  const std::vector<std::byte> chunk(1 << 20);
  for (;;) co_await s.write_all(chunk);
  (void)peer;
}

TEST_CASE("wait graph: goroutines in the I/O poller wait on their fd and direction") {
  runtime rt({.workers = 1, .manual_clock = true});
  rt.run([](runtime& rt) -> task<void> {
    auto l = tcp_listener::listen("127.0.0.1", 0);
    const std::uint16_t port = l.local_port();
    auto c1 = co_await tcp_stream::connect("127.0.0.1", port);
    auto s1 = co_await l.accept();
    auto c2 = co_await tcp_stream::connect("127.0.0.1", port);
    auto s2 = co_await l.accept();
    const int listen_fd = l.native_handle(), read_fd = s1.native_handle();
    const int write_fd = c2.native_handle();
    const std::uint64_t acceptor = go(accept_forever(std::move(l)));
    const std::uint64_t reader = go(read_forever(std::move(s1), std::move(c1)));
    const std::uint64_t writer = go(write_forever(std::move(c2), std::move(s2)));
    co_await let_others_park();
    const snapshot a = rt.take_snapshot();
    struct expect {
      std::uint64_t id;
      int fd;
      bool write;
    };
    for (const expect& e : {expect{acceptor, listen_fd, false}, expect{reader, read_fd, false},
                            expect{writer, write_fd, true}}) {
      CAPTURE(e.id);
      REQUIRE(a.find(e.id));
      CHECK(a.find(e.id)->reason == wait_reason::io_wait);
      const wait_object* o = object_of(a, e.id);
      REQUIRE(o);
      CHECK(o->kind == wait_object_kind::fd);
      CHECK(o->fd == e.fd);
      CHECK(o->write == e.write);
    }
    const snapshot b = rt.take_snapshot();  // the same objects while they wait
    for (std::uint64_t id : {acceptor, reader, writer}) {
      REQUIRE(b.find(id));
      CHECK(b.find(id)->blocked_on == a.find(id)->blocked_on);
    }
    // The goroutines stay parked; the runtime frees them (and their sockets) at the end.
  }(rt));
}

}  // namespace
}  // namespace gprofid
