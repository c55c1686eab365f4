// co_await sleep_for(d) / sleep_until(t): parks the goroutine (wait_reason sleep) until the
// runtime's timer clock reaches the deadline, like Go's time.Sleep.
#pragma once

#include <chrono>
#include <coroutine>
#include <cstdint>

#include "gprofid/timer_clock.hpp"

namespace gprofid {
namespace detail {
struct wait_inspector;
}

class [[nodiscard]] sleep_awaiter {
 public:
  explicit sleep_awaiter(timer_clock::time_point deadline) noexcept : deadline_(deadline) {}
  // Throws std::logic_error outside a goroutine.
  bool await_ready() const;
  void await_suspend(std::coroutine_handle<> h);
  void await_resume() const noexcept {}

 private:
  friend struct detail::wait_inspector;  // the deadline of a parked sleeper, for snapshots
  timer_clock::time_point deadline_;
};

// A zero or negative duration (or a past deadline) returns at once, without yielding.
// [[nodiscard]]: `sleep_for(d);` without co_await would do nothing.
[[nodiscard]] sleep_awaiter sleep_until(timer_clock::time_point deadline) noexcept;
[[nodiscard]] sleep_awaiter sleep_for(std::chrono::nanoseconds d) noexcept;

}  // namespace gprofid
