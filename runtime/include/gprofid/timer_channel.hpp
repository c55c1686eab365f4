// Timers as channels, for select with a timeout: after(d) is Go's time.After, ticker is
// time.Ticker. Values are the timer clock (timer_clock, in ns) at the moment the timer fired.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "gprofid/channel.hpp"

namespace gprofid {

// A channel (capacity 1) that receives one value once `d` has elapsed. Inside a goroutine.
// Until it fires the pending timer keeps the channel alive, as in Go before 1.23.
[[nodiscard]] chan<std::int64_t> after(std::chrono::nanoseconds d);

// Sends on c() every period. A receiver that falls behind misses ticks rather than queueing
// them (capacity 1, later ticks dropped), so it never sees a burst of stale ones.
class ticker {
 public:
  // Inside a goroutine; throws std::invalid_argument unless period > 0.
  explicit ticker(std::chrono::nanoseconds period);
  ~ticker() { stop(); }
  ticker(ticker&&) noexcept = default;
  ticker& operator=(ticker&& o) noexcept {
    if (this != &o) {
      stop();
      s_ = std::move(o.s_);
    }
    return *this;
  }

  const chan<std::int64_t>& c() const noexcept;
  // No tick is sent after stop() returns; the channel is not closed (as in Go).
  void stop() noexcept;

 private:
  struct state;
  std::shared_ptr<state> s_;
};

}  // namespace gprofid
