// The goroutine registry on its own: what a snapshot walk sees of goroutines created and ended
// while it runs, and that it never holds up their spawn or exit.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <future>
#include <vector>

#include "gprofid/task.hpp"
#include "registry.hpp"

namespace gprofid {
namespace {

task<void> never_started() {
  co_return;
}

// A control block with a real (never started) root frame, as runtime::create makes one.
goroutine* create(registry& reg, std::uint64_t id) {
  auto h = never_started().release();
  return reg.create(id, 0, spawn_site{}, nullptr, h, &h.promise(), 0);
}

bool contains(const std::vector<goroutine*>& v, const goroutine* g) {
  return std::find(v.begin(), v.end(), g) != v.end();
}

TEST_CASE("registry: spawns and exits on a shard proceed while a walk is in the middle of it") {
  registry reg(1);
  std::vector<goroutine*> made;
  for (std::uint64_t id = 1; id <= 600; ++id) made.push_back(create(reg, id));
  // The list runs from the newest: the walk passes made[599] first and made[0] last.
  goroutine* passed = made[500];
  goroutine* ahead = made[100];

  reg.begin_walk();
  goroutine* spawned = nullptr;
  int steps = 0;
  bool proceeded = false;
  std::future<void> other;  // outlives the step, so that a failing run still ends
  reg.collect_step_for_test = [&] {
    if (++steps != 300) return;
    // Halfway through the shard: a spawn and two exits on it, from another thread (as a worker
    // would), must complete while the walker stands here. Were the walker holding the shard's
    // lock, they would wait for it and the deadline would pass.
    other = std::async(std::launch::async, [&] {
      spawned = create(reg, 601);
      reg.destroy(passed);
      reg.destroy(ahead);
    });
    proceeded = other.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  };
  std::vector<goroutine*> seen;
  reg.collect(seen);
  reg.collect_step_for_test = nullptr;
  other.get();

  CHECK(proceeded);
  CHECK(steps == 599);              // the links around the one that ended ahead of it lead past it
  CHECK(seen.size() == 599);        // all but the one that ended ahead of the walker
  CHECK(contains(seen, passed));    // collected before it ended: its block is retired
  CHECK(!contains(seen, ahead));    // unlinked by the time the walker got there
  CHECK(!contains(seen, spawned));  // linked ahead of the walker's start
  CHECK(passed->unlinked.load());   // still readable: retired until end_walk
  CHECK(spawned->created_epoch == reg.epoch());  // and excluded from the walk by its epoch
  reg.end_walk();
  CHECK(reg.live() == 599);
}

TEST_CASE("registry: a walk reaches every goroutine of every shard once") {
  registry reg(3);
  std::vector<goroutine*> made;
  for (std::uint64_t id = 1; id <= 100; ++id) {
    auto h = never_started().release();
    made.push_back(reg.create(id, 0, spawn_site{}, nullptr, h, &h.promise(), id % 3));
  }
  reg.destroy(made[10]);
  reg.destroy(made[11]);
  reg.begin_walk();
  std::vector<goroutine*> seen;
  reg.collect(seen);
  reg.end_walk();
  CHECK(seen.size() == 98);
  std::sort(seen.begin(), seen.end());
  CHECK(std::adjacent_find(seen.begin(), seen.end()) == seen.end());
  CHECK(!contains(seen, made[10]));
}

}  // namespace
}  // namespace gprofid
