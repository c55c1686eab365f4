// A goroutine mutex, like Go's sync.Mutex but strictly FIFO: unlock hands ownership straight to
// the longest waiter, so a goroutine that keeps re-locking cannot starve the others.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <mutex>
#include <source_location>
#include <utility>

#include "gprofid/detail/park.hpp"
#include "gprofid/detail/spinlock.hpp"
#include "gprofid/detail/waiter_queue.hpp"

namespace gprofid {
namespace detail {
struct wait_inspector;
}

class mutex;

// Owns a lock on a gprofid::mutex and releases it on destruction, like std::unique_lock.
class mutex_guard {
 public:
  mutex_guard() noexcept = default;
  mutex_guard(mutex& m, std::adopt_lock_t) noexcept : m_(&m) {}
  mutex_guard(mutex_guard&& o) noexcept : m_(std::exchange(o.m_, nullptr)) {}
  mutex_guard& operator=(mutex_guard&& o) noexcept {
    if (this != &o) {
      release();
      m_ = std::exchange(o.m_, nullptr);
    }
    return *this;
  }
  ~mutex_guard() { release(); }

  bool owns_lock() const noexcept { return m_ != nullptr; }
  explicit operator bool() const noexcept { return owns_lock(); }
  mutex* get() const noexcept { return m_; }
  // Unlocks early; the guard then owns nothing.
  void unlock() noexcept { release(); }

 private:
  void release() noexcept;

  mutex* m_ = nullptr;
};

class mutex {
  // A queued lock_awaiter: the goroutine, and where it asked, which becomes the owner's site
  // when unlock() hands it the lock.
  struct lock_waiter : detail::waiter {
    std::source_location at;
  };

 public:
  mutex() noexcept = default;
  mutex(const mutex&) = delete;
  mutex& operator=(const mutex&) = delete;

  // co_await m.lock(): the uncontended path is a single compare-and-swap and never suspends.
  // `at`, defaulted where lock() is called (the co_await line), is kept as where the lock was
  // taken, for the wait-for graph (docs/wait-graph.md).
  class [[nodiscard]] lock_awaiter {
   public:
    lock_awaiter(mutex& m, std::source_location at) noexcept : m_(m) { node_.at = at; }
    lock_awaiter(const lock_awaiter&) = delete;
    lock_awaiter& operator=(const lock_awaiter&) = delete;

    bool await_ready() noexcept { return m_.try_lock(node_.at); }
    bool await_suspend(std::coroutine_handle<> h);
    void await_resume() const noexcept {}

   protected:
    mutex& m_;

   private:
    lock_waiter node_;  // queued in m_ while parked
  };

  // auto guard = co_await m.scoped_lock();
  class [[nodiscard]] scoped_lock_awaiter : public lock_awaiter {
   public:
    using lock_awaiter::lock_awaiter;
    mutex_guard await_resume() const noexcept { return mutex_guard(m_, std::adopt_lock); }
  };

  [[nodiscard]] lock_awaiter lock(
      std::source_location at = std::source_location::current()) noexcept {
    return lock_awaiter(*this, at);
  }
  [[nodiscard]] scoped_lock_awaiter scoped_lock(
      std::source_location at = std::source_location::current()) noexcept {
    return scoped_lock_awaiter(*this, at);
  }

  // Fails whenever the mutex is held or has waiters (a newcomer never overtakes a waiter).
  bool try_lock(std::source_location at = std::source_location::current()) noexcept {
    auto expected = unlocked;
    if (!state_.compare_exchange_strong(expected, locked, std::memory_order_acquire,
                                        std::memory_order_relaxed)) {
      return false;
    }
    note_owner(current_goroutine(), at);
    return true;
  }

  // Releases the mutex, or passes it to the first waiter. Any goroutine (or thread) may unlock,
  // as in Go. Throws std::logic_error if the mutex is not locked.
  void unlock();

  // Approximate, for diagnostics and tests.
  bool is_locked() const noexcept { return state_.load(std::memory_order_relaxed) != unlocked; }
  // The goroutine that holds it, 0 when unlocked or held outside any goroutine. Exact while its
  // holder and waiters are parked (what the wait-for graph relies on); approximate otherwise.
  std::uint64_t owner() const noexcept { return owner_.load(std::memory_order_relaxed); }
  // Where the holder took it (its lock(), scoped_lock() or try_lock() call); as exact as owner().
  std::source_location owner_site() const noexcept {
    return owner_site_.load(std::memory_order_relaxed);
  }

 private:
  friend struct detail::wait_inspector;
  void note_owner(const goroutine* g, std::source_location at) noexcept {
    owner_site_.store(at, std::memory_order_relaxed);
    owner_.store(g ? g->id : 0, std::memory_order_relaxed);
  }

  // `contended` means locked with at least one queued waiter: only then is queue_lock_ needed.
  static constexpr std::uint32_t unlocked = 0;
  static constexpr std::uint32_t locked = 1;
  static constexpr std::uint32_t contended = 2;

  std::atomic<std::uint32_t> state_{unlocked};
  // Written by whoever takes or hands over the lock, before the waiter it hands to can run.
  std::atomic<std::uint64_t> owner_{0};
  // Written with owner_, before it; read with it (wait-for graph): one pointer, no lock.
  std::atomic<std::source_location> owner_site_{};
  spinlock queue_lock_;
  detail::waiter_queue waiters_;  // guarded by queue_lock_
};

inline void mutex_guard::release() noexcept {
  // While a stopped runtime frees its frames the mutex and its waiters may already be gone.
  mutex* m = std::exchange(m_, nullptr);
  if (m && !detail::tearing_down()) m->unlock();
}

}  // namespace gprofid
