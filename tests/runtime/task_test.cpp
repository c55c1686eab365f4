#include "runtime/task.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

#include "runtime/runtime.hpp"

namespace gprofid {
namespace {

// Counts live instances so tests can prove every frame is destroyed exactly once.
struct tracked {
  static inline int alive = 0;
  static inline int destroyed = 0;
  tracked() { ++alive; }
  tracked(const tracked&) { ++alive; }
  ~tracked() {
    --alive;
    ++destroyed;
  }
};

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

TEST_CASE("task: a task never awaited destroys its frame without running") {
  tracked::alive = 0;
  tracked::destroyed = 0;
  { auto t = answer(1); }
  CHECK(tracked::destroyed == 0);  // lazily started: the body never ran
  CHECK(tracked::alive == 0);
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
