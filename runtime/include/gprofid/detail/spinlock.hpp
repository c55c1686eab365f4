// A tiny lock for critical sections of a few dozen instructions: one compare-and-swap to take,
// one exchange to release, a futex only when a waiter gave up spinning.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
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
// than cores) costs its waiters no CPU: they resume in lock(), woken by the holder's unlock(),
// in no particular order. The word (Drepper's "futexes are tricky", mutex 2): 0 free, 1 held,
// 2 held and perhaps slept on; only an unlock that finds 2 makes the wake-up system call.
class spinlock {
 public:
  void lock() noexcept {
    std::uint32_t expected = free_;
    if (!word_.compare_exchange_strong(expected, held_, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
      lock_contended();
    }
  }
  bool try_lock() noexcept {
    std::uint32_t expected = free_;
    return word_.compare_exchange_strong(expected, held_, std::memory_order_acquire,
                                         std::memory_order_relaxed);
  }
  void unlock() noexcept {
    if (word_.exchange(free_, std::memory_order_release) == slept_on_) wake_one();
  }

  // Pauses a waiter spins before it sleeps: a few microseconds, longer than the critical
  // sections this lock is for, shorter than an OS time slice.
  static constexpr int spin_limit = 128;

 private:
  static constexpr std::uint32_t free_ = 0, held_ = 1, slept_on_ = 2;

  void lock_contended() noexcept {
    for (int spins = 0; spins < spin_limit; ++spins) {
      cpu_relax();
      std::uint32_t seen = word_.load(std::memory_order_relaxed);
      if (seen == free_ && word_.compare_exchange_weak(seen, held_, std::memory_order_acquire,
                                                       std::memory_order_relaxed)) {
        return;
      }
    }
    // Marked slept-on even if taken now: at worst one needless wake-up at this unlock.
    while (word_.exchange(slept_on_, std::memory_order_acquire) != free_) {
      syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word_), FUTEX_WAIT_PRIVATE, slept_on_,
              nullptr, nullptr, 0);
    }
  }
  void wake_one() noexcept {
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word_), FUTEX_WAKE_PRIVATE, 1, nullptr,
            nullptr, 0);
  }

  std::atomic<std::uint32_t> word_{free_};
};

}  // namespace gprofid
