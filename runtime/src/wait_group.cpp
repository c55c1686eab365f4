#include "gprofid/wait_group.hpp"

#include <limits>
#include <stdexcept>

#include "gprofid/detail/spinlock.hpp"

namespace gprofid {

void wait_group::add(std::int64_t delta) {
  // A done() from a destructor of a frame being freed: nobody can be waiting any more, and the
  // wait_group itself may be gone.
  if (detail::tearing_down()) return;
  if (delta < std::numeric_limits<std::int32_t>::min() ||
      delta > std::numeric_limits<std::int32_t>::max()) {
    throw std::logic_error("gprofid::wait_group: delta out of range");
  }
  const std::uint64_t step = static_cast<std::uint64_t>(delta) << count_shift;
  const std::uint64_t old = state_.fetch_add(step, std::memory_order_acq_rel);
  const std::int64_t now = count_of(old) + delta;
  if (now < 0 || now > std::numeric_limits<std::int32_t>::max()) {
    state_.fetch_sub(step, std::memory_order_relaxed);
    throw std::logic_error(now < 0 ? "gprofid::wait_group: negative counter"
                                   : "gprofid::wait_group: counter overflow");
  }
  // Without waiters the fetch_add above was the last access: a wait() may return right now.
  if (now != 0 || (old & waiter_mask) == 0) return;
  // Waiters are counted before they queue (under the lock), so each one counted is either
  // queued or will be once we get the lock; none can return before we clear the count.
  auto s = state_.load(std::memory_order_relaxed);
  for (;;) {
    if (s & locked_bit) {
      cpu_relax();
      s = state_.load(std::memory_order_relaxed);
    } else if (state_.compare_exchange_weak(s, s | locked_bit, std::memory_order_acquire,
                                            std::memory_order_relaxed)) {
      break;
    }
  }
  detail::waiter* chain = waiters_.take_all();
  state_.fetch_and(count_mask, std::memory_order_release);  // clears waiters, unlocks
  detail::ready_all(chain);
}

bool wait_group::wait_awaiter::await_suspend(std::coroutine_handle<> h) {
  goroutine* g = current_goroutine();
  if (!g) throw std::logic_error("gprofid::wait_group::wait awaited outside a goroutine");
  node_.g = g;
  auto& state = wg_.state_;
  auto s = state.load(std::memory_order_acquire);
  for (;;) {
    if (s == 0) return false;  // counter zero and no wake-up pending
    if (s & locked_bit) {
      cpu_relax();
      s = state.load(std::memory_order_acquire);
    } else if (state.compare_exchange_weak(s, (s + waiter_one) | locked_bit,
                                           std::memory_order_acquire, std::memory_order_acquire)) {
      break;
    }
  }
  wg_.waiters_.push_back(&node_);
  state.fetch_sub(locked_bit, std::memory_order_release);
  park(h, wait_reason::wait_group, {wait_object_kind::wait_group, &wg_});
  return true;
}

}  // namespace gprofid
