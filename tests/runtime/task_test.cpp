#include "gprofid/task.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

#include "gprofid/runtime.hpp"
#include "tests/runtime/test_support.hpp"

namespace gprofid {
namespace {

using testing::tracked;

task<int> answer(int x) {
  tracked t;
  co_return x * 2;
}

task<int> sum_of_answers() {
  tracked t;
  int a = co_await answer(1);
  int b = co_await answer(20);
  co_return a + b;
}

task<int> thrower() {
  tracked t;
  throw std::runtime_error("boom");
  co_return 0;
}

task<std::string> catches() {
  try {
    co_await thrower();
  } catch (const std::runtime_error& e) {
    co_return std::string("caught ") + e.what();
  }
  co_return "not caught";
}

TEST_CASE("task: values and exceptions propagate to the awaiter; frames destroyed once") {
  tracked::alive = 0;
  tracked::destroyed = 0;
  int result = 0;
  std::string caught;
  {
    runtime rt({.workers = 1});
    rt.run([](int& out, std::string& c) -> task<void> {
      out = co_await sum_of_answers();
      c = co_await catches();
    }(result, caught));
  }
  CHECK(result == 42);
  CHECK(caught == "caught boom");
  CHECK(tracked::alive == 0);
  CHECK(tracked::destroyed == 4);
}

// The frame holds its own copy of `held`: destroying the frame is what destroys that copy.
task<int> holds([[maybe_unused]] tracked held, bool& ran) {
  ran = true;
  co_return 1;
}

TEST_CASE("task: a task never awaited destroys its frame without running") {
  tracked::reset();
  bool ran = false;
  {
    auto t = holds(tracked{}, ran);
    CHECK(tracked::alive == 1);  // the argument's copy in the frame
  }
  CHECK(!ran);  // lazily started: the body never ran
  CHECK(tracked::alive == 0);
  CHECK(tracked::destroyed >= 2);  // the argument, then the frame's copy
}

TEST_CASE("runtime::run rethrows the main goroutine's exception") {
  runtime rt({.workers = 1});
  auto failing = []() -> task<void> {
    throw std::runtime_error("main failed");
    co_return;
  };
  CHECK_THROWS_WITH_AS(rt.run(failing()), "main failed", std::runtime_error);
}

}  // namespace
}  // namespace gprofid

namespace gprofid {
namespace {

// An awaiter that can be neither copied nor moved, like one holding an intrusive waiter node.
struct pinned_awaiter {
  int value;
  explicit pinned_awaiter(int v) : value(v) {}
  pinned_awaiter(const pinned_awaiter&) = delete;
  pinned_awaiter& operator=(const pinned_awaiter&) = delete;
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  int await_resume() const noexcept { return value; }
};

TEST_CASE("task: immovable awaiters are awaited in place") {
  int got = 0;
  runtime rt({.workers = 1});
  rt.run([](int& got) -> task<void> {
    got = co_await pinned_awaiter(7);
    pinned_awaiter lvalue(5);
    got += co_await lvalue;
  }(got));
  CHECK(got == 12);
}

}  // namespace
}  // namespace gprofid
