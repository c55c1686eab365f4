// A tiny test-and-test-and-set lock for critical sections of a few dozen instructions,
// where a futex-backed mutex would cost more than the work it protects.
#pragma once

#include <sched.h>

#include <atomic>

namespace gprofid {

// Tells the CPU this is a spin-wait loop: it yields pipeline resources to a sibling hyperthread
// and avoids the memory-order mis-speculation penalty on exit.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  asm volatile("yield" ::: "memory");
#else
  std::atomic_signal_fence(std::memory_order_seq_cst);  // at least keep the load in the loop
#endif
}

class spinlock {
 public:
  void lock() noexcept {
    while (locked_.exchange(true, std::memory_order_acquire)) {
      // A holder preempted by the OS would otherwise be waited for a whole time slice: after a
      // short spin, give the CPU away.
      for (int spins = 0; locked_.load(std::memory_order_relaxed); ++spins) {
        if (spins < 128) {
          cpu_relax();
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
