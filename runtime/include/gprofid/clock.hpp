// Monotonic time in nanoseconds, the single time base of the runtime and the sampler.
#pragma once

#include <chrono>
#include <cstdint>

namespace gprofid {

inline std::int64_t monotonic_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace gprofid
