// A tiny test-and-test-and-set lock for critical sections of a few dozen instructions,
// where a futex-backed mutex would cost more than the work it protects.
#pragma once

#include <sched.h>

#include <atomic>

namespace gprofid {

class spinlock {
 public:
  void lock() noexcept {
    while (locked_.exchange(true, std::memory_order_acquire)) {
      // A holder preempted by the OS would otherwise be waited for a whole time slice: after a
      // short spin, give the CPU away.
      for (int spins = 0; locked_.load(std::memory_order_relaxed); ++spins) {
        if (spins < 128) {
          __builtin_ia32_pause();
        } else {
          sched_yield();
        }
      }
    }
  }
  bool try_lock() noexcept { return !locked_.exchange(true, std::memory_order_acquire); }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace gprofid
