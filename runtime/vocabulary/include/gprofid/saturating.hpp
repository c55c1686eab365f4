// Saturating arithmetic for times and counters computed from input data. A recording may hold any
// int64 in a time field, so the difference or sum of two must clamp at the ends of the range
// instead of overflowing (undefined behaviour; wrapped in a release build, a span of 1.8e19 ns
// printed as 1000). Code that adds or subtracts values it read uses these; the runtime's own
// clocks, which cannot get near the limits, need not.
#pragma once

#include <cstdint>
#include <limits>

namespace gprofid {

// a + b, clamped to [INT64_MIN, INT64_MAX].
constexpr std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t r = 0;
  if (!__builtin_add_overflow(a, b, &r)) return r;
  return b > 0 ? std::numeric_limits<std::int64_t>::max()
               : std::numeric_limits<std::int64_t>::min();
}

// a - b, clamped to [INT64_MIN, INT64_MAX]: the span from b to a.
constexpr std::int64_t saturating_sub(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t r = 0;
  if (!__builtin_sub_overflow(a, b, &r)) return r;
  return b < 0 ? std::numeric_limits<std::int64_t>::max()
               : std::numeric_limits<std::int64_t>::min();
}

// a + b, clamped to UINT64_MAX (counters: resumes, samples, bytes).
constexpr std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) noexcept {
  std::uint64_t r = 0;
  if (!__builtin_add_overflow(a, b, &r)) return r;
  return std::numeric_limits<std::uint64_t>::max();
}

// a * b, clamped to [INT64_MIN, INT64_MAX] (rates and scaled times).
constexpr std::int64_t saturating_mul(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t r = 0;
  if (!__builtin_mul_overflow(a, b, &r)) return r;
  return (a < 0) != (b < 0) ? std::numeric_limits<std::int64_t>::min()
                            : std::numeric_limits<std::int64_t>::max();
}

// v as an int64, clamped to INT64_MAX (ids and counters written where only int64 fits, such as
// pprof's numeric labels: never a negative id).
constexpr std::int64_t saturating_int64(std::uint64_t v) noexcept {
  constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  return static_cast<std::int64_t>(v > max ? max : v);
}

}  // namespace gprofid
