#include "gprofid/snapshot.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>

#include "gprofid/detail/function_name.hpp"
#include "gprofid/detail/park.hpp"
#include "gprofid/event.hpp"
#include "gprofid/runtime.hpp"
#include "gprofid/traceback.hpp"

namespace gprofid {
namespace {

// The lines each coroutine is suspended at, asserted below.
constexpr unsigned spin_line = __LINE__ + 3;
constexpr unsigned nested_line = __LINE__ + 6;
task<void> spin_until(std::atomic<bool>& flag) {
  while (!flag.load()) co_await yield();
}

task<void> nested(std::atomic<bool>& flag) {
  co_await spin_until(flag);
}

TEST_CASE("snapshot: ids, parents, spawn sites, labels and logical stacks") {
  runtime rt({.workers = 1});
  std::atomic<bool> release{false};
  snapshot snap;
  std::uint64_t child = 0;
  int spawn_line = 0;
  rt.run([](runtime& rt, std::atomic<bool>& release, snapshot& snap, std::uint64_t& child,
            int& spawn_line) -> task<void> {
    this_goroutine::set_label("request_id", "r-7");
    spawn_line = __LINE__ + 1;
    child = go(nested(release));
    co_await yield();  // let the child reach its loop
    snap = rt.take_snapshot();
    release = true;
  }(rt, release, snap, child, spawn_line));

  REQUIRE(snap.goroutines.size() == 2);
  const auto* main_g = snap.find(1);
  const auto* child_g = snap.find(child);
  REQUIRE(main_g);
  REQUIRE(child_g);
  CHECK(child == 2);
  CHECK(main_g->parent_id == 0);
  CHECK(main_g->state == goroutine_state::running);
  CHECK(child_g->parent_id == 1);
  CHECK(child_g->site.location.line() == static_cast<unsigned>(spawn_line));
  REQUIRE(child_g->labels);
  CHECK(*find_label(*child_g->labels, "request_id") == "r-7");
  const auto& stack = snap.stack_of(*child_g);
  REQUIRE(stack.size() == 2);
  CHECK(display_function_name(stack[0].function.function_name()) ==
        "gprofid::{anonymous}::spin_until(std::atomic<bool>&)");
  CHECK(display_function_name(stack[1].function.function_name()) ==
        "gprofid::{anonymous}::nested(std::atomic<bool>&)");
  CHECK(stack[0].call_site.line() == spin_line);
  CHECK(stack[1].call_site.line() == nested_line);
  CHECK(child_g->resumes >= 1);
}

// A frame's caller is found from the address of the frame awaiting it (promise_base::caller()),
// which must hold for a task whose result is 16-byte aligned too.
struct alignas(16) wide {
  long v = 0;
};

task<void> wide_leaf(event& go_on) {
  co_await go_on.wait();
}

task<wide> wide_middle(event& go_on) {
  co_await wide_leaf(go_on);
  co_return wide{7};
}

task<void> wide_root(event& go_on, long& got) {
  got = (co_await wide_middle(go_on)).v;
}

TEST_CASE("snapshot: the stack passes through a task with a 16-byte aligned result") {
  static_assert(alignof(detail::task_promise<wide>) == 16);
  runtime rt({.workers = 1});
  snapshot snap;
  std::uint64_t id = 0;
  long got = 0;
  rt.run([](runtime& rt, snapshot& snap, std::uint64_t& id, long& got) -> task<void> {
    event go_on;
    id = go(wide_root(go_on, got));
    co_await yield();  // it parks in wide_leaf
    snap = rt.take_snapshot();
    go_on.set();
    co_await yield();
  }(rt, snap, id, got));
  CHECK(got == 7);
  REQUIRE(snap.find(id));
  const auto& stack = snap.stack_of(*snap.find(id));
  REQUIRE(stack.size() == 3);
  CHECK(display_function_name(stack[0].function.function_name()) ==
        "gprofid::{anonymous}::wide_leaf(gprofid::event&)");
  CHECK(display_function_name(stack[1].function.function_name()) ==
        "gprofid::{anonymous}::wide_middle(gprofid::event&)");
  CHECK(display_function_name(stack[2].function.function_name()) ==
        "gprofid::{anonymous}::wide_root(gprofid::event&, long int&)");
}

// Stacks keyed by push_frame's hash: equal stacks share an entry at any depth, and a stack that
// differs only in an outer frame's co_await line, or that changes between snapshots, does not.
task<void> deep(int depth, event& go_on) {
  if (depth == 0) {
    co_await go_on.wait();
  } else if (depth % 2 == 0) {
    co_await deep(depth - 1, go_on);
  } else {
    co_await deep(depth - 1, go_on);  // another line: another stack
  }
}

task<void> park_twice(event& first, event& second) {
  co_await deep(20, first);
  co_await deep(20, second);
}

TEST_CASE("snapshot: stacks of any depth are keyed by the frames and lines they wait at") {
  runtime rt({.workers = 1});
  rt.run([](runtime& rt) -> task<void> {
    event first, second, other;
    const std::uint64_t a = go(park_twice(first, second));
    const std::uint64_t b = go(park_twice(first, second));
    const std::uint64_t c = go(deep(21, other));
    co_await yield();
    snapshot s1 = rt.take_snapshot();
    REQUIRE(s1.find(a));
    REQUIRE(s1.find(b));
    REQUIRE(s1.find(c));
    CHECK(s1.find(a)->stack == s1.find(b)->stack);
    CHECK(s1.stack_of(*s1.find(a)).size() == 22);
    CHECK(s1.stack_of(*s1.find(c)).size() == 22);
    CHECK(s1.find(a)->stack != s1.find(c)->stack);
    first.set();
    co_await yield();
    snapshot s2 = rt.take_snapshot();
    const stack_trace& moved = s2.stack_of(*s2.find(a));
    REQUIRE(moved.size() == 22);
    CHECK(moved.back().call_site.line() != s1.stack_of(*s1.find(a)).back().call_site.line());
    CHECK(moved.front().call_site.line() == s1.stack_of(*s1.find(a)).front().call_site.line());
    second.set();
    other.set();
  }(rt));
}

}  // namespace
}  // namespace gprofid
