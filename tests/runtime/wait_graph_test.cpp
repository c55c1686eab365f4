// The wait-for graph of a snapshot: what each parked goroutine waits on, each object's state,
// and which goroutines' frames hold each channel's handles (docs/wait-graph.md).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <source_location>
#include <thread>

#include "gprofid/channel.hpp"
#include "gprofid/event.hpp"
#include "gprofid/mutex.hpp"
#include "gprofid/runtime.hpp"
#include "gprofid/select.hpp"
#include "gprofid/sleep.hpp"
#include "gprofid/snapshot.hpp"
#include "gprofid/timer_channel.hpp"
#include "gprofid/wait_group.hpp"
#include "test_support.hpp"
#include "wait_graph.hpp"

namespace gprofid {
namespace {

using namespace std::chrono_literals;

using testing::object_by_id;
using testing::object_of;

TEST_CASE("address_index: first value kept, found again after growing") {
  detail::address_index index;
  std::vector<std::uint64_t> words(100'000);  // addresses a fixed stride apart, as objects are
  for (std::size_t i = 0; i < words.size(); ++i) {
    const auto [value, fresh] = index.try_emplace(&words[i], i);
    CHECK(fresh);
    CHECK(value == i);
  }
  std::size_t found = 0;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const auto [value, fresh] = index.try_emplace(&words[i], 7);  // not stored: it has one
    found += !fresh && value == i;
  }
  CHECK(found == words.size());
}

task<void> receive(chan<int> c) {
  co_await c.recv();
}

task<void> hold_while_sleeping(chan<int> c) {
  co_await sleep_for(1h);  // a manual clock: never fires
  (void)c;
}

task<void> hold_in_io(chan<int> c) {
  co_await testing::park_forever{wait_reason::io_wait};
  (void)c;
}

struct shared_state {
  chan<int> c = make_chan<int>();
};

task<void> receive_shared(std::shared_ptr<shared_state> st) {
  co_await st->c.recv();
}

// Runs `body` in main on one worker with a manual clock, lets every goroutine it spawned run
// until it parks, and returns the snapshot taken then.
template <class F>
snapshot snapshot_after(F body) {
  runtime rt({.workers = 1, .manual_clock = true});
  snapshot snap;
  rt.run([](runtime& rt, snapshot& snap, F body) -> task<void> {
    co_await body();
    co_await yield();
    snap = rt.take_snapshot();
  }(rt, snap, std::move(body)));
  return snap;
}

TEST_CASE("wait graph: a receiver holding the only handle to its channel") {
  std::uint64_t id = 0;
  snapshot s = snapshot_after([&]() -> task<void> {
    auto c = make_chan<int>();
    id = go(receive(c));
    co_return;  // main's handle goes with this frame
  });
  const wait_object* o = object_of(s, id);
  REQUIRE(o);
  CHECK(o->kind == wait_object_kind::channel);
  CHECK(o->capacity == 0);
  CHECK(o->receivers == 1);
  CHECK(o->senders == 0);
  CHECK_FALSE(o->closed);
  CHECK(o->handles == 1);
  CHECK(o->held_by == std::vector<std::uint64_t>{id});
}

TEST_CASE(
    "wait graph: handles in a parked goroutine without a graph object or the heap are counted "
    "but held by no parked goroutine; a sleeper holds its own") {
  std::uint64_t a = 0, b = 0, c = 0, sleeper = 0;
  snapshot s = snapshot_after([&]() -> task<void> {
    auto ch1 = make_chan<int>();
    a = go(receive(ch1));
    sleeper = go(hold_while_sleeping(ch1));
    auto ch2 = make_chan<int>();
    b = go(receive(ch2));
    go(hold_in_io(ch2));  // parked as io_wait without an fd object
    c = go(receive_shared(std::make_shared<shared_state>()));
    co_return;
  });
  for (std::uint64_t id : {a, b}) {
    const wait_object* o = object_of(s, id);
    REQUIRE(o);
    CHECK(o->handles == 2);
  }
  // A sleeper is parked on a timer object: its frame is attributed, and the leak rule still
  // treats it as able to run (it is never a member of a closed set).
  CHECK(object_of(s, a)->held_by == std::vector<std::uint64_t>{a, sleeper});
  CHECK(object_of(s, b)->held_by == std::vector<std::uint64_t>{b});
  const wait_object* heap = object_of(s, c);
  REQUIRE(heap);
  CHECK(heap->handles == 1);
  CHECK(heap->held_by.empty());  // in a shared struct, not in a frame
}

TEST_CASE("wait graph: a timer's channel is also held by the timer") {
  std::uint64_t id = 0;
  snapshot s = snapshot_after([&]() -> task<void> {
    id = go([]() -> task<void> { co_await after(1h).recv(); }());
    co_return;
  });
  const wait_object* o = object_of(s, id);
  REQUIRE(o);
  CHECK(o->capacity == 1);
  CHECK(o->handles == 2);  // the co_await's temporary and the pending timer's copy
  CHECK(o->held_by == std::vector<std::uint64_t>{id});
  const wait_object* t = object_by_id(s, o->timer);
  REQUIRE(t);  // and the graph says so: the channel has a pending timer
  CHECK(t->kind == wait_object_kind::timer);
}

// Frames for the cases below: a chain whose handle is in its root, in a middle frame, or
// placed in a caller's frame through a reference.
task<void> receive_on(const chan<int>& c) {
  co_await c.recv();
}

task<void> nested_receive(int depth, const chan<int>& c) {
  if (depth > 0) {
    co_await nested_receive(depth - 1, c);
  } else {
    co_await receive_on(c);
  }
}

task<void> root_local_then_deep() {
  auto c = make_chan<int>();  // made while the root runs innermost
  co_await nested_receive(3, c);
}

task<void> param_then_deep(chan<int> c) {  // the handle is the root's parameter
  co_await nested_receive(2, c);
}

task<void> middle_local() {
  auto c = make_chan<int>();  // made while this middle frame runs innermost
  co_await nested_receive(2, c);
}

task<void> root_of_middle() {
  co_await middle_local();
}

task<void> fill_slot(std::optional<chan<int>>& slot) {
  slot.emplace(make_chan<int>());  // lands in the caller's frame, not this one
  co_await slot->recv();
}

task<void> slot_in_root() {
  std::optional<chan<int>> slot;
  co_await fill_slot(slot);
}

TEST_CASE(
    "wait graph: a handle in any frame of a deep chain is found: the root's local or "
    "parameter, a middle frame's local, a parameter moved in") {
  std::uint64_t in_root = 0, in_middle = 0, moved = 0, root_param = 0;
  snapshot s = snapshot_after([&]() -> task<void> {
    in_root = go(root_local_then_deep());
    root_param = go(param_then_deep(make_chan<int>()));
    in_middle = go(root_of_middle());
    auto c = make_chan<int>();
    moved = go(receive(std::move(c)));
    co_return;
  });
  for (std::uint64_t id : {in_root, in_middle, moved, root_param}) {
    CAPTURE(id);
    const wait_object* o = object_of(s, id);
    REQUIRE(o);
    CHECK(o->handles == 1);
    CHECK(o->held_by == std::vector<std::uint64_t>{id});
  }
  const goroutine_record* deep = nullptr;
  for (const auto& g : s.goroutines) deep = g.id == in_middle ? &g : deep;
  REQUIRE(deep);
  CHECK(s.stacks[deep->stack].size() == 6);  // root, middle, 3 nested_receive, receive_on
}

TEST_CASE(
    "wait graph: a handle an inner frame places in its caller's frame is not attributed, so "
    "its channel counts as reachable (docs/wait-graph.md)") {
  std::uint64_t id = 0;
  snapshot s = snapshot_after([&]() -> task<void> {
    id = go(slot_in_root());
    co_return;
  });
  const wait_object* o = object_of(s, id);
  REQUIRE(o);
  CHECK(o->handles == 1);
  CHECK(o->held_by.empty());
}

task<void> select_both(chan<int> x, chan<int> y) {
  co_await select(recv_case(x), send_case(y, 1));
}

TEST_CASE("wait graph: a select names its case set and each channel") {
  std::uint64_t id = 0;
  snapshot s = snapshot_after([&]() -> task<void> {
    id = go(select_both(make_chan<int>(), make_chan<int>()));
    co_return;
  });
  const wait_object* sel = object_of(s, id);
  REQUIRE(sel);
  CHECK(sel->kind == wait_object_kind::select);
  REQUIRE(sel->cases.size() == 2);
  CHECK(sel->send_cases.size() == 1);
  CHECK(sel->nil_cases == 0);
  for (std::uint64_t ch : sel->cases) {
    const wait_object* o = object_by_id(s, ch);
    REQUIRE(o);
    CHECK(o->kind == wait_object_kind::channel);
    CHECK(o->held_by == std::vector<std::uint64_t>{id});
  }
}

const std::uint32_t first_lock_line = std::source_location::current().line() + 3;

task<void> lock_both(std::shared_ptr<mutex> first, std::shared_ptr<mutex> second) {
  auto one = co_await first->scoped_lock();
  co_await yield();  // the other goroutine takes its first lock
  auto two = co_await second->scoped_lock();
}

TEST_CASE("wait graph: two goroutines each waiting on the mutex the other holds") {
  auto a = std::make_shared<mutex>();
  auto b = std::make_shared<mutex>();
  std::uint64_t g1 = 0, g2 = 0;
  snapshot s = snapshot_after([&]() -> task<void> {
    g1 = go(lock_both(a, b));
    g2 = go(lock_both(b, a));
    co_await yield();
  });
  const wait_object* m1 = object_of(s, g1);  // b, held by g2
  const wait_object* m2 = object_of(s, g2);  // a, held by g1
  REQUIRE(m1);
  REQUIRE(m2);
  CHECK(m1->kind == wait_object_kind::mutex);
  CHECK(m1->locked);
  CHECK(m1->owner == g2);
  CHECK(m1->queue == std::vector<std::uint64_t>{g1});
  CHECK(m2->owner == g1);
  CHECK(m2->queue == std::vector<std::uint64_t>{g2});
  CHECK(a->owner() == g1);
  // Where each holder took the mutex the other waits on: lock_both's first scoped_lock().
  REQUIRE(s.lock_sites.size() == 2);
  for (const auto& site : s.lock_sites) {
    CHECK((site.object == m1->id || site.object == m2->id));
    CHECK(site.at.line() == first_lock_line);
  }
}

task<void> wait_for(std::shared_ptr<wait_group> wg) {
  co_await wg->wait();
}

task<void> wait_event(std::shared_ptr<event> ev) {
  co_await ev->wait();
}

TEST_CASE("wait graph: a wait_group's counter and an event's flag") {
  auto wg = std::make_shared<wait_group>();
  auto ev = std::make_shared<event>();
  std::uint64_t w = 0, e = 0;
  snapshot s = snapshot_after([&]() -> task<void> {
    wg->add(2);
    w = go(wait_for(wg));
    e = go(wait_event(ev));
    co_return;
  });
  const wait_object* o = object_of(s, w);
  REQUIRE(o);
  CHECK(o->kind == wait_object_kind::wait_group);
  CHECK(o->counter == 2);
  CHECK(o->waiters == 1);
  const wait_object* ev_o = object_of(s, e);
  REQUIRE(ev_o);
  CHECK(ev_o->kind == wait_object_kind::event);
  CHECK_FALSE(ev_o->set);
}

task<void> spin(std::atomic<bool>& started, std::atomic<bool>& release) {
  started = true;
  while (!release.load()) {
  }  // never yields
  co_return;
}

TEST_CASE("snapshot: a running goroutine's counters include the run in progress") {
  runtime rt({.workers = 2});
  std::atomic<bool> started{false}, release{false};
  std::uint64_t spinner = 0;
  snapshot snap;
  rt.run([](runtime& rt, std::atomic<bool>& started, std::atomic<bool>& release,
            std::uint64_t& spinner, snapshot& snap) -> task<void> {
    spinner = go(spin(started, release));
    while (!started.load()) co_await yield();
    std::this_thread::sleep_for(30ms);  // the spinner holds the other worker meanwhile
    snap = rt.take_snapshot();
    release = true;
  }(rt, started, release, spinner, snap));
  const goroutine_record* r = snap.find(spinner);
  REQUIRE(r);
  CHECK(r->state == goroutine_state::running);
  CHECK(r->resumes == 1);
  CHECK(r->running_ns >= 30'000'000);
}

}  // namespace
}  // namespace gprofid
