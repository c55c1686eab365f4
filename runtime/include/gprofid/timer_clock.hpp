// The clock timers run on: the monotonic clock (same epoch as monotonic_ns), or, with
// runtime_options::manual_clock, a clock that moves only when a test calls advance_clock().
#pragma once

#include <chrono>
#include <cstdint>

namespace gprofid {

struct timer_clock {
  using rep = std::int64_t;
  using period = std::nano;
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<timer_clock>;
  static constexpr bool is_steady = true;

  // The current runtime's timer time; the monotonic clock outside any runtime.
  static time_point now() noexcept;
};

}  // namespace gprofid
