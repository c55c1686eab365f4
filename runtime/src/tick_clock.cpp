#include "tick_clock.hpp"

#include <algorithm>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace gprofid::detail {
namespace {

bool invariant_tsc() noexcept {
#if defined(__x86_64__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  // CPUID 0x80000007, EDX bit 8: the TSC runs at a constant rate in every power state.
  return __get_cpuid(0x80000007, &a, &b, &c, &d) && (d & (1u << 8)) != 0;
#else
  return false;
#endif
}

// A (ticks, ns) pair read as close together as the clock allows: the tick read is bracketed by
// two clock reads and the tightest of a few tries wins.
struct sample {
  std::uint64_t ticks;
  std::int64_t ns;
};
sample paired_read() noexcept {
  sample best{0, 0};
  std::int64_t best_gap = INT64_MAX;
  for (int i = 0; i < 5; ++i) {
    const std::int64_t before = monotonic_ns();
    const std::uint64_t t = read_ticks();
    const std::int64_t after = monotonic_ns();
    if (after - before < best_gap) {
      best_gap = after - before;
      best = {t, before + (after - before) / 2};
    }
  }
  return best;
}

tick_rate calibrate() noexcept {
  tick_rate r;
  if (!invariant_tsc()) return r;
  // 2 ms of spinning, once per process: with ~50 ns of read jitter the rate is good to ~5e-5,
  // which the 10 ms anchor period turns into at most ~0.5 us of drift.
  const sample a = paired_read();
  while (monotonic_ns() - a.ns < 2'000'000) {
  }
  const sample b = paired_read();
  if (b.ticks <= a.ticks) return r;
  r.ns_per_tick_q32 = static_cast<std::uint64_t>(
      (static_cast<unsigned __int128>(b.ns - a.ns) << 32) / (b.ticks - a.ticks));
  r.usable = r.ns_per_tick_q32 != 0;
  return r;
}

}  // namespace

const tick_rate& process_tick_rate() noexcept {
  static const tick_rate rate = calibrate();
  return rate;
}

tick_clock::tick_clock(const tick_rate& rate) noexcept : rate_(rate) {
  if (!rate_.usable) return;
  anchor_ticks_ = static_cast<std::uint64_t>(
      (static_cast<unsigned __int128>(anchor_period_ns) << 32) / rate_.ns_per_tick_q32);
  anchor();
}

std::int64_t tick_clock::anchor() noexcept {
  // Back to the monotonic clock: an error in the rate never accumulates past one period. This
  // may step back by that error (well under a microsecond); the scheduler clamps intervals at 0.
  const sample s = paired_read();
  base_ticks_ = s.ticks;
  base_ns_ = s.ns;
  return base_ns_;
}

}  // namespace gprofid::detail
