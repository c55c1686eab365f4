#include "gprofid/recorder/rate_limit.hpp"

#include <algorithm>
#include <cstdio>

#include "gprofid/clock.hpp"

namespace gprofid {

std::string snapshot_rate_error(const rate_limit& limit) {
  char text[120];
  std::snprintf(text, sizeof text,
                "busy: more than %g snapshots a second (burst %g); try again later",
                limit.per_second, limit.burst);
  return text;
}

bool rate_limiter::try_take(std::int64_t now_ns) {
  if (limit_.per_second <= 0) return true;
  std::lock_guard guard(m_);
  if (last_ns_ >= 0 && now_ns > last_ns_) {
    tokens_ = std::min(limit_.burst,
                       tokens_ + static_cast<double>(now_ns - last_ns_) * 1e-9 * limit_.per_second);
  }
  last_ns_ = std::max(last_ns_, now_ns);
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

bool rate_limiter::try_take() {
  return try_take(monotonic_ns());
}

}  // namespace gprofid
