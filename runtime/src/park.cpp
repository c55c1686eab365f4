#include "gprofid/detail/park.hpp"

#include "gprofid/clock.hpp"
#include "scheduler.hpp"

namespace gprofid {

goroutine* current_goroutine() noexcept {
  auto* ctx = detail::this_worker();
  return ctx ? ctx->current : nullptr;
}

void park(std::coroutine_handle<> h, wait_reason why) noexcept {
  park(h, why, {});
}

void park(std::coroutine_handle<> h, wait_reason why, blocked_on on) noexcept {
  auto* ctx = detail::this_worker();
  goroutine* g = ctx->current;
  g->resume_point = h;
  // The worker publishes the reason with the time, once the frame has suspended (one lock
  // and no extra clock read per park).
  ctx->reason = why;
  ctx->blocked = on;
  ctx->last = detail::outcome::parked;
}

void ready(goroutine* g) noexcept {
  if (detail::tearing_down()) return;
  scheduler_of(*g).ready(g);
}

void yield_awaiter::await_suspend(std::coroutine_handle<> h) noexcept {
  auto* ctx = detail::this_worker();
  ctx->current->resume_point = h;
  ctx->last = detail::outcome::yielded;
}

namespace this_goroutine {

std::uint64_t id() noexcept {
  goroutine* g = current_goroutine();
  return g ? g->id : 0;
}

void set_label(std::string_view key, std::string_view value) {
  goroutine* g = current_goroutine();
  if (!g) return;
  label_ptr next = with_label(g->labels, key, value);
  std::lock_guard guard(g->lock);
  g->labels = std::move(next);
}

label_ptr labels() noexcept {
  goroutine* g = current_goroutine();
  return g ? g->labels : nullptr;
}

}  // namespace this_goroutine
}  // namespace gprofid
