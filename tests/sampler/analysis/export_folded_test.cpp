#include "gprofid/analysis/export_folded.hpp"

#include <doctest/doctest.h>

#include <limits>
#include <string>

namespace gprofid {
namespace {

// Two workers blocked in consume (one labelled), one in produce, main running.
struct fixture {
  symbol_tables tables;

  fixture() {
    tables.sites = {{"main()", "main.cpp", 5, 0}};
    tables.frames = {{"main_task()", "main.cpp", 14, 0},
                     {"worker(int)", "worker.cpp", 20, 0},
                     {"consume(int)", "worker.cpp", 31, 0},
                     {"produce(int)", "worker.cpp", 45, 0},
                     {"consume(int)", "worker.cpp", 33, 0}};
    tables.stacks = {{0}, {2, 1}, {3, 1}, {4, 1}, {}};
  }

  static goroutine_sample waiting(std::uint64_t id, std::uint32_t stack, std::int64_t wait_ns) {
    return {.id = id,
            .stack = stack,
            .state = goroutine_state::waiting,
            .reason = wait_reason::chan_receive,
            .wait_ns = wait_ns};
  }
  static goroutine_sample running(std::uint64_t id, std::uint32_t stack) {
    return {.id = id, .stack = stack, .state = goroutine_state::running};
  }
};

sample at(std::uint64_t seq, std::int64_t time_ns) {
  sample s;
  s.seq = seq;
  s.time_ns = time_ns;
  return s;
}

TEST_CASE("folded stacks count goroutines per stack, outermost frame first") {
  fixture f;
  sample s = at(0, 100);
  s.goroutines = {fixture::running(1, 0), fixture::waiting(2, 1, 50), fixture::waiting(3, 1, 10),
                  fixture::waiting(4, 2, 0)};
  CHECK(folded_stacks(f.tables, {s}) ==
        "main_task() 1\n"
        "worker(int);consume(int) 2\n"
        "worker(int);produce(int) 1\n");
}

TEST_CASE("folded stacks merge frames by function unless lines are asked for") {
  fixture f;
  sample s = at(0, 100);
  s.goroutines = {fixture::waiting(2, 1, 0), fixture::waiting(3, 3, 0)};
  CHECK(folded_stacks(f.tables, {s}) == "worker(int);consume(int) 2\n");
  CHECK(folded_stacks(f.tables, {s}, {.lines = true}) ==
        "worker(int) worker.cpp:20;consume(int) worker.cpp:31 1\n"
        "worker(int) worker.cpp:20;consume(int) worker.cpp:33 1\n");
}

TEST_CASE("folded stacks sum goroutine counts over samples") {
  fixture f;
  sample a = at(0, 100), b = at(1, 200);
  a.goroutines = {fixture::running(1, 0), fixture::waiting(2, 1, 0)};
  b.goroutines = {fixture::waiting(2, 1, 100), fixture::waiting(3, 1, 0)};
  CHECK(folded_stacks(f.tables, {a, b}) ==
        "main_task() 1\n"
        "worker(int);consume(int) 3\n");
}

TEST_CASE("folded stacks weighted by waiting time count each wait once") {
  fixture f;
  const folded_options by_time{.weight = folded_weight::waiting_time};
  sample a = at(0, 1000), b = at(1, 2000), c = at(2, 3000);
  // Goroutine 2 waits from 700 to at least 3000 in consume: 2300 ns, not 300 + 1300 + 2300.
  // Goroutine 3 waits 400 ns in produce, runs, then waits again in produce from 2800: 400 + 200.
  // Goroutine 4 waits in consume from 1500 and is gone by the third sample: 500.
  a.goroutines = {fixture::running(1, 0), fixture::waiting(2, 1, 300), fixture::waiting(3, 2, 400)};
  b.goroutines = {fixture::waiting(2, 1, 1300), fixture::running(3, 2),
                  fixture::waiting(4, 1, 500)};
  c.goroutines = {fixture::waiting(2, 1, 2300), fixture::waiting(3, 2, 200)};
  CHECK(folded_stacks(f.tables, {a, b, c}, by_time) ==
        "worker(int);consume(int) 2800\n"
        "worker(int);produce(int) 600\n");
}

TEST_CASE("a new wait in the same place after the previous sample is a separate wait") {
  fixture f;
  sample a = at(0, 1000), b = at(1, 2000);
  a.goroutines = {fixture::waiting(2, 1, 300)};
  b.goroutines = {fixture::waiting(2, 1, 100)};  // woke and blocked again at 1900
  CHECK(folded_stacks(f.tables, {a, b}, {.weight = folded_weight::waiting_time}) ==
        "worker(int);consume(int) 400\n");
}

TEST_CASE("hostile waiting times saturate: no overflow between samples, no wrapped weight") {
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  constexpr auto min = std::numeric_limits<std::int64_t>::min();
  fixture f;
  const folded_options by_time{.weight = folded_weight::waiting_time};
  // One wait seen at the earliest and the latest instants there are (1.8e19 ns apart): the
  // same wait, counted once.
  sample a = at(0, min), b = at(1, max);
  a.goroutines = {fixture::waiting(2, 1, max)};
  b.goroutines = {fixture::waiting(2, 1, max)};
  CHECK(folded_stacks(f.tables, {a, b}, by_time) ==
        "worker(int);consume(int) " + std::to_string(max) + "\n");
  // Three waits of INT64_MAX ns in one stack: the weight stops at UINT64_MAX.
  sample c = at(0, 0);
  c.goroutines = {fixture::waiting(2, 1, max), fixture::waiting(3, 1, max),
                  fixture::waiting(4, 1, max), fixture::waiting(5, 2, min)};
  CHECK(folded_stacks(f.tables, {c}, by_time) ==
        "worker(int);consume(int) " + std::to_string(std::numeric_limits<std::uint64_t>::max()) +
            "\n");
}

TEST_CASE("folded frames never contain the separator and empty stacks are named") {
  fixture f;
  f.tables.frames.push_back({"operator;()", "x.cpp", 1, 0});
  f.tables.stacks.push_back({5});
  sample s = at(0, 1);
  s.goroutines = {fixture::running(1, 5), fixture::running(2, 4)};
  CHECK(folded_stacks(f.tables, {s}) == "[no frames] 1\noperator,() 1\n");
}

}  // namespace
}  // namespace gprofid
