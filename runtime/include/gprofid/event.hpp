// A one-shot, manual-reset latch: goroutines co_await wait() until some goroutine or thread
// calls set(), after which every wait (past and future) completes at once.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>

#include "gprofid/detail/park.hpp"
#include "gprofid/detail/waiter_queue.hpp"

namespace gprofid {
namespace detail {
struct wait_inspector;
}

class event {
 public:
  event() noexcept = default;
  event(const event&) = delete;
  event& operator=(const event&) = delete;

  // Wakes every waiter; later calls do nothing. Callable from any thread. Once a waiter has
  // returned, set() no longer touches the event, so that waiter may destroy it.
  void set() noexcept;
  bool is_set() const noexcept { return (state_.load(std::memory_order_acquire) & set_bit) != 0; }

  class [[nodiscard]] wait_awaiter {
   public:
    explicit wait_awaiter(event& e) noexcept : e_(e) {}
    wait_awaiter(const wait_awaiter&) = delete;
    wait_awaiter& operator=(const wait_awaiter&) = delete;

    bool await_ready() const noexcept { return e_.is_set(); }
    bool await_suspend(std::coroutine_handle<> h);
    void await_resume() const noexcept {}

   private:
    event& e_;
    detail::waiter node_;
  };

  [[nodiscard]] wait_awaiter wait() noexcept { return wait_awaiter(*this); }

 private:
  // The queue's lock shares the word with the flag, so that set() can publish the flag and
  // release the lock in one store: its last touch of the event.
  friend struct detail::wait_inspector;
  static constexpr std::uint32_t locked_bit = 1;
  static constexpr std::uint32_t set_bit = 2;

  // Takes the queue lock unless the event is set; returns whether it did.
  bool lock_unless_set() noexcept;

  std::atomic<std::uint32_t> state_{0};
  detail::waiter_queue waiters_;  // guarded by locked_bit
};

}  // namespace gprofid
