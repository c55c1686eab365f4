#include "gprofid/mutex.hpp"

#include <stdexcept>

namespace gprofid {

bool mutex::lock_awaiter::await_suspend(std::coroutine_handle<> h) {
  goroutine* g = current_goroutine();
  if (!g) throw std::logic_error("gprofid::mutex::lock awaited outside a goroutine");
  node_.g = g;
  {
    std::lock_guard guard(m_.queue_lock_);
    auto s = m_.state_.load(std::memory_order_relaxed);
    for (;;) {
      if (s == unlocked) {
        // Released between await_ready and here: take it without suspending.
        if (m_.state_.compare_exchange_weak(s, locked, std::memory_order_acquire,
                                            std::memory_order_relaxed)) {
          m_.note_owner(g, node_.at);
          return false;
        }
      } else if (s == locked) {
        // From now on unlock() must come through queue_lock_ and find us.
        if (m_.state_.compare_exchange_weak(s, contended, std::memory_order_relaxed,
                                            std::memory_order_relaxed)) {
          break;
        }
      } else {
        break;
      }
    }
    m_.waiters_.push_back(&node_);
  }
  park(h, wait_reason::mutex_lock, {wait_object_kind::mutex, &m_});
  return true;
}

void mutex::unlock() {
  if (detail::tearing_down()) return;
  // Cleared first: a reader may see "unlocked" an instant early, never a stale owner after.
  const std::uint64_t was = owner_.exchange(0, std::memory_order_relaxed);
  auto expected = locked;
  if (state_.compare_exchange_strong(expected, unlocked, std::memory_order_release,
                                     std::memory_order_relaxed)) {
    return;
  }
  if (expected == unlocked) {
    owner_.store(was, std::memory_order_relaxed);
    throw std::logic_error("gprofid::mutex: unlock of unlocked mutex");
  }
  // Contended: the state stays locked and ownership passes to the oldest waiter. Its
  // critical section happens-after ours through the scheduler's queue.
  goroutine* next = nullptr;
  {
    std::lock_guard guard(queue_lock_);
    // Every node of this queue is a lock_awaiter's lock_waiter.
    auto* w = static_cast<lock_waiter*>(waiters_.pop_front());
    next = w->g;
    note_owner(next, w->at);
    if (waiters_.empty()) state_.store(locked, std::memory_order_relaxed);
  }
  ready(next);
}

}  // namespace gprofid
