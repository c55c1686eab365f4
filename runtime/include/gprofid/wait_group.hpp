// Waits for a collection of goroutines to finish, like Go's sync.WaitGroup: add(n) before
// starting work, done() when each piece ends, co_await wait() until the counter is zero.
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

class wait_group {
 public:
  wait_group() noexcept = default;
  wait_group(const wait_group&) = delete;
  wait_group& operator=(const wait_group&) = delete;

  // Adds `delta` (which may be negative) to the counter; reaching zero wakes every waiter.
  // Throws std::logic_error, leaving the counter unchanged, if it would go negative (or past
  // INT32_MAX). Once a waiter has returned, the done() that released it no longer touches the
  // wait_group, so the waiter may destroy it (the usual `co_await wg.wait(); return;`).
  void add(std::int64_t delta);
  void done() { add(-1); }

  std::int64_t count() const noexcept { return count_of(state_.load(std::memory_order_acquire)); }

  class [[nodiscard]] wait_awaiter {
   public:
    explicit wait_awaiter(wait_group& wg) noexcept : wg_(wg) {}
    wait_awaiter(const wait_awaiter&) = delete;
    wait_awaiter& operator=(const wait_awaiter&) = delete;

    bool await_ready() const noexcept { return wg_.state_.load(std::memory_order_acquire) == 0; }
    bool await_suspend(std::coroutine_handle<> h);
    void await_resume() const noexcept {}

   private:
    wait_group& wg_;
    detail::waiter node_;
  };

  // co_await wg.wait(): returns at once if the counter is already zero.
  [[nodiscard]] wait_awaiter wait() noexcept { return wait_awaiter(*this); }

 private:
  // One word: counter (high 32 bits, signed), queued waiters (bits 1..31), queue lock (bit 0).
  // Keeping them together lets the last done() see whether anyone waits, and lets the wake-up
  // clear the waiters and release the lock in a single, final access.
  friend struct detail::wait_inspector;
  static constexpr std::uint64_t locked_bit = 1;
  static constexpr std::uint64_t waiter_one = 2;
  static constexpr std::uint64_t waiter_mask = 0xffff'fffeULL;
  static constexpr std::uint64_t count_mask = 0xffff'ffff'0000'0000ULL;
  static constexpr int count_shift = 32;

  static std::int64_t count_of(std::uint64_t s) noexcept {
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(s >> count_shift));
  }

  std::atomic<std::uint64_t> state_{0};
  detail::waiter_queue waiters_;  // guarded by locked_bit
};

}  // namespace gprofid
