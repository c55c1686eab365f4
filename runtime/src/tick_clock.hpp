// A worker's clock for scheduling statistics, read once per switch: the CPU's invariant
// time-stamp counter scaled to nanoseconds and re-anchored to monotonic_ns() every few
// milliseconds, so it costs an rdtsc instead of a clock_gettime and never strays from the
// monotonic clock by more than the rate error over one anchor period (about a microsecond; see
// docs/snapshot.md, "How exact the times are"). Without an invariant TSC (or off x86-64) it is
// monotonic_ns().
#pragma once

#include <cstdint>

#include "gprofid/clock.hpp"

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace gprofid::detail {

// The counter's rate against monotonic_ns(), measured once per process.
struct tick_rate {
  bool usable = false;                // an invariant TSC is present
  std::uint64_t ns_per_tick_q32 = 0;  // nanoseconds per tick, 32.32 fixed point
};
const tick_rate& process_tick_rate() noexcept;

inline std::uint64_t read_ticks() noexcept {
#if defined(__x86_64__)
  return __rdtsc();
#else
  return 0;
#endif
}

// Owned by one thread; not synchronised.
class tick_clock {
 public:
  // Re-anchor after this long: bounds the drift a rate error (~1e-4 at worst) can accumulate.
  static constexpr std::int64_t anchor_period_ns = 10'000'000;

  explicit tick_clock(const tick_rate& rate = process_tick_rate()) noexcept;

  std::int64_t now() noexcept {
    if (!rate_.usable) return monotonic_ns();
    const std::uint64_t elapsed = read_ticks() - base_ticks_;
    // Also catches a counter behind the anchor (another CPU's, slightly): elapsed wraps huge.
    if (elapsed >= anchor_ticks_) return anchor();
    return base_ns_ + static_cast<std::int64_t>(
                          (static_cast<unsigned __int128>(elapsed) * rate_.ns_per_tick_q32) >> 32);
  }

 private:
  std::int64_t anchor() noexcept;

  tick_rate rate_;
  std::uint64_t anchor_ticks_ = 0;
  std::uint64_t base_ticks_ = 0;
  std::int64_t base_ns_ = 0;
};

}  // namespace gprofid::detail
