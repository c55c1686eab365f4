// A token bucket: how the debug services bound the rate of on-demand snapshots, each of which
// costs the program what a recorder sample does.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

namespace gprofid {

struct rate_limit {
  double per_second = 10;  // tokens added a second; <= 0: no limit
  double burst = 10;       // the bucket's size: requests allowed at once after a quiet spell
};

// "busy: more than N snapshots a second (burst B); try again later": what a refused request is
// told.
std::string snapshot_rate_error(const rate_limit& limit);

class rate_limiter {
 public:
  explicit rate_limiter(rate_limit limit) : limit_(limit), tokens_(limit.burst) {}

  // Takes a token at monotonic instant `now_ns` if there is one (the bucket starts full).
  bool try_take(std::int64_t now_ns);
  // Same, at monotonic_ns() now.
  bool try_take();

  const rate_limit& limit() const noexcept { return limit_; }

 private:
  rate_limit limit_;
  // Guards tokens_ and last_ns_; taken by any service thread for a moment, nothing nested.
  std::mutex m_;
  double tokens_;
  std::int64_t last_ns_ = -1;
};

}  // namespace gprofid
