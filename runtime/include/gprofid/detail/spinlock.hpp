// A tiny lock for critical sections of a few dozen instructions: one compare-and-swap to take,
// one exchange to release, a futex only when a waiter gave up spinning.
#pragma once

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>

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

// Waiters spin briefly, then sleep on a futex, so a holder the OS preempted (more runnable threads
// than cores) costs its waiters no CPU: they resume in lock(), woken one at a time by unlock(),
// in no particular order. One 32-bit word: bit 0 held, the rest counts the sleepers, so an unlock
// makes the wake-up system call only while someone sleeps (not, as with Drepper's 0/1/2 mutex,
// on every unlock once the lock has been contended).
class spinlock {
 public:
  void lock() noexcept {
    std::uint32_t expected = 0;
    if (!word_.compare_exchange_strong(expected, held_, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
      lock_contended();
    }
  }
  bool try_lock() noexcept {
    std::uint32_t seen = word_.load(std::memory_order_relaxed);
    return (seen & held_) == 0 &&
           word_.compare_exchange_strong(seen, seen | held_, std::memory_order_acquire,
                                         std::memory_order_relaxed);
  }
  void unlock() noexcept {
    if (word_.fetch_sub(held_, std::memory_order_release) != held_) wake_one();
  }

  // Pauses a waiter spins before it sleeps: a few microseconds, longer than the critical
  // sections this lock is for, shorter than an OS time slice.
  static constexpr int spin_limit = 128;
  // Then sched_yield()s before it sleeps.
  static constexpr int yield_limit = 4;

 private:
  static constexpr std::uint32_t held_ = 1, sleeper_ = 2;

  void lock_contended() noexcept {
    for (int spins = 0; spins < spin_limit + yield_limit; ++spins) {
      // Past the spin, yield: a holder preempted on this core runs at once (like Go's lock's
      // passive spin). Only a holder that stays off-CPU for longer sends waiters to sleep.
      if (spins < spin_limit) {
        cpu_relax();
      } else {
        sched_yield();
      }
      std::uint32_t seen = word_.load(std::memory_order_relaxed);
      if ((seen & held_) == 0 &&
          word_.compare_exchange_weak(seen, seen | held_, std::memory_order_acquire,
                                      std::memory_order_relaxed)) {
        return;
      }
    }
    // Callers may be between a failed system call and their look at errno.
    const int saved_errno = errno;
    // Counted as a sleeper from here until it takes the lock (one compare-and-swap does both).
    std::uint32_t seen = word_.fetch_add(sleeper_, std::memory_order_relaxed) + sleeper_;
    for (;;) {
      if ((seen & held_) == 0) {
        if (word_.compare_exchange_weak(seen, (seen - sleeper_) | held_, std::memory_order_acquire,
                                        std::memory_order_relaxed)) {
          errno = saved_errno;
          return;
        }
        continue;  // `seen` reloaded
      }
      // Sleeps only if the word still reads `seen` (held, this sleeper counted): the unlock that
      // clears the bit changes it, so its wake-up cannot be missed.
      syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word_), FUTEX_WAIT_PRIVATE, seen,
              nullptr, nullptr, 0);
      seen = word_.load(std::memory_order_relaxed);
    }
  }
  void wake_one() noexcept {
    const int saved_errno = errno;
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word_), FUTEX_WAKE_PRIVATE, 1, nullptr,
            nullptr, 0);
    errno = saved_errno;
  }

  std::atomic<std::uint32_t> word_{0};
};

}  // namespace gprofid
