// Helpers shared by the runtime tests.
#pragma once

#include <algorithm>
#include <atomic>
#include <coroutine>

#include "gprofid/detail/park.hpp"
#include "gprofid/snapshot.hpp"

namespace gprofid::testing {

// Parks the goroutine for good, as a goroutine blocked on a channel nobody sends on would be.
struct park_forever {
  wait_reason why = wait_reason::select_no_cases;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) const noexcept { park(h, why); }
  void await_resume() const noexcept {}
};

// Counts live instances, so tests can prove every frame is destroyed exactly once.
struct tracked {
  // Atomic: frames run, and are destroyed, on every worker.
  static inline std::atomic<int> alive = 0;
  static inline std::atomic<int> destroyed = 0;
  static void reset() { alive = destroyed = 0; }
  tracked() { ++alive; }
  tracked(const tracked&) { ++alive; }
  ~tracked() {
    --alive;
    ++destroyed;
  }
};

// How many goroutines of a snapshot wait for `why`.
inline long count_waiting(const snapshot& s, wait_reason why) {
  return std::count_if(s.goroutines.begin(), s.goroutines.end(), [&](const auto& r) {
    return r.state == goroutine_state::waiting && r.reason == why;
  });
}

}  // namespace gprofid::testing
