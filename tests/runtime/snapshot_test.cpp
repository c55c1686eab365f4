#include "gprofid/snapshot.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>

#include "gprofid/detail/function_name.hpp"
#include "gprofid/detail/park.hpp"
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

}  // namespace
}  // namespace gprofid
