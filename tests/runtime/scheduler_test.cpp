#include "scheduler.hpp"

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "gprofid/runtime.hpp"
#include "tests/runtime/test_support.hpp"

namespace gprofid {
namespace {

using testing::park_forever;
using testing::tracked;

task<void> record_thread(std::atomic<int>& on_other, std::thread::id main_thread) {
  if (std::this_thread::get_id() != main_thread) on_other.fetch_add(1);
  co_return;
}

TEST_CASE("scheduler: idle workers steal from a busy one") {
  std::atomic<int> on_other{0};
  runtime rt({.workers = 2});
  rt.run([](std::atomic<int>& on_other) -> task<void> {
    // All are queued on this worker, which then stays busy: only stealing can run them.
    for (int i = 0; i < 200; ++i) go(record_thread(on_other, std::this_thread::get_id()));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (on_other.load() < 200 && std::chrono::steady_clock::now() < deadline) {
    }
    co_return;
  }(on_other));
  CHECK(on_other.load() == 200);
}

TEST_CASE("scheduler: yield lets the other goroutines of a single worker run") {
  std::vector<int> order;
  runtime rt({.workers = 1});
  rt.run([](std::vector<int>& order) -> task<void> {
    auto step = [](std::vector<int>& order, int who) -> task<void> {
      for (int i = 0; i < 3; ++i) {
        order.push_back(who);
        co_await yield();
      }
    };
    go(step(order, 1));
    go(step(order, 2));
    for (int i = 0; i < 8; ++i) co_await yield();
  }(order));
  CHECK(order == std::vector<int>{1, 2, 1, 2, 1, 2});
}

TEST_CASE("scheduler: idle workers sleep instead of spinning") {
  // A scheduler of its own, with no goroutine at all: its workers have nothing to do, so each
  // must end up blocked on the idle condition variable. A spinning worker never counts as asleep.
  runtime rt({.workers = 1});
  scheduler idle(rt, 2);
  idle.start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  // A sleeping worker wakes every 100 ms to look again: take the count once, when it is 2.
  std::size_t asleep = 0;
  while ((asleep = idle.sleeping_workers()) < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  CHECK(asleep == 2);
  idle.stop();
  CHECK(idle.sleeping_workers() == 0);
}

TEST_CASE("runtime: worker count from options, then GPROFID_WORKERS") {
  {
    runtime rt({.workers = 3});
    CHECK(rt.workers() == 3);
  }
  setenv("GPROFID_WORKERS", "2", 1);
  {
    runtime rt;
    CHECK(rt.workers() == 2);
  }
  unsetenv("GPROFID_WORKERS");
}

TEST_CASE("runtime: ids start at 1 for main and increase in creation order") {
  std::vector<std::uint64_t> ids;
  runtime rt({.workers = 2});
  rt.run([](std::vector<std::uint64_t>& ids) -> task<void> {
    ids.push_back(this_goroutine::id());
    auto noop = []() -> task<void> { co_return; };
    for (int i = 0; i < 10000; ++i) ids.push_back(go(noop()));
    co_return;
  }(ids));
  REQUIRE(ids.size() == 10001);
  for (std::size_t i = 0; i < ids.size(); ++i) CHECK(ids[i] == i + 1);
}

TEST_CASE("runtime: goroutines still blocked at shutdown are freed with their frames") {
  tracked::reset();
  {
    runtime rt({.workers = 2});
    rt.run([]() -> task<void> {
      auto blocked = []() -> task<void> {
        tracked t;
        co_await park_forever{};
      };
      for (int i = 0; i < 100; ++i) go(blocked());
      for (int i = 0; i < 10; ++i) co_await yield();
    }());
  }
  CHECK(tracked::alive == 0);
}

TEST_CASE("runtime: an escaped exception that is not a std::exception says what it is") {
  std::vector<std::string> what;
  std::mutex m;
  runtime_options opts{.workers = 1, .on_exception = exception_policy::log};
  opts.on_failure = [&](const goroutine_failure& f) {
    std::lock_guard guard(m);
    what.push_back(f.what);
  };
  runtime rt(opts);
  rt.run([]() -> task<void> {
    go([]() -> task<void> {
      throw 42;
      co_return;
    }());
    go([]() -> task<void> {
      throw "a literal";
      co_return;
    }());
    go([]() -> task<void> {
      throw std::string("a string");
      co_return;
    }());
    struct custom_error {};
    go([]() -> task<void> {
      throw custom_error{};
      co_return;
    }());
    for (int i = 0; i < 10; ++i) co_await yield();
  }());
  REQUIRE(what.size() == 4);  // one worker: they ran, and failed, in spawn order
  CHECK(what[0] == "exception of type int");
  CHECK(what[1] == "a literal");
  CHECK(what[2] == "a string");
  CHECK(what[3].find("exception of type ") == 0);
  CHECK(what[3].find("custom_error") != std::string::npos);
}

TEST_CASE("runtime: an escaped exception is reported with id, stack and spawn site") {
  std::vector<goroutine_failure> failures;
  std::mutex m;
  runtime_options opts{.workers = 1, .on_exception = exception_policy::log};
  opts.on_failure = [&](const goroutine_failure& f) {
    std::lock_guard guard(m);
    failures.push_back(f);
  };
  runtime rt(opts);
  std::uint64_t child = 0;
  rt.run([](std::uint64_t& child) -> task<void> {
    auto inner = []() -> task<void> {
      throw std::runtime_error("boom");
      co_return;
    };
    auto outer = [](auto inner) -> task<void> { co_await inner(); };
    child = go(outer(inner));
    for (int i = 0; i < 5; ++i) co_await yield();
  }(child));
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].id == child);
  CHECK(failures[0].what == "boom");
  CHECK(failures[0].report.find("panic: boom") == 0);
  CHECK(failures[0].report.find("goroutine " + std::to_string(child) + " [running]:") !=
        std::string::npos);
  CHECK(failures[0].report.find("created by") != std::string::npos);
  CHECK(failures[0].report.find("in goroutine 1") != std::string::npos);
}

TEST_CASE("runtime: by default an escaped exception aborts, like Go's unrecovered panic") {
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // The child must die of the abort itself, not be reported by doctest's handler.
    std::signal(SIGABRT, SIG_DFL);
    if (!std::freopen("/dev/null", "w", stderr) || !std::freopen("/dev/null", "w", stdout)) {
      std::_Exit(3);
    }
    runtime rt({.workers = 1});
    rt.run([]() -> task<void> {
      auto bad = []() -> task<void> {
        throw std::runtime_error("unrecovered");
        co_return;
      };
      go(bad());
      for (;;) co_await yield();
    }());
    std::_Exit(0);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGABRT);
}

TEST_CASE("go() outside a goroutine is an error") {
  auto noop = []() -> task<void> { co_return; };
  CHECK_THROWS_AS(go(noop()), std::logic_error);
}

}  // namespace
}  // namespace gprofid
