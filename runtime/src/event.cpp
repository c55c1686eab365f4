#include "gprofid/event.hpp"

#include <stdexcept>

#include "gprofid/detail/spinlock.hpp"

namespace gprofid {

bool event::lock_unless_set() noexcept {
  auto s = state_.load(std::memory_order_acquire);
  for (;;) {
    if (s & set_bit) return false;
    if (s & locked_bit) {
      cpu_relax();
      s = state_.load(std::memory_order_acquire);
    } else if (state_.compare_exchange_weak(s, s | locked_bit, std::memory_order_acquire,
                                            std::memory_order_acquire)) {
      return true;
    }
  }
}

void event::set() noexcept {
  if (detail::tearing_down()) return;  // the event and its waiters may already be freed
  if (!lock_unless_set()) return;
  detail::waiter* chain = waiters_.take_all();
  state_.store(set_bit, std::memory_order_release);  // sets and unlocks
  detail::ready_all(chain);
}

bool event::wait_awaiter::await_suspend(std::coroutine_handle<> h) {
  goroutine* g = current_goroutine();
  if (!g) throw std::logic_error("gprofid::event::wait awaited outside a goroutine");
  node_.g = g;
  if (!e_.lock_unless_set()) return false;
  e_.waiters_.push_back(&node_);
  e_.state_.store(0, std::memory_order_release);  // only set() sets the flag, under the lock
  park(h, wait_reason::event, {wait_object_kind::event, &e_});
  return true;
}

}  // namespace gprofid
