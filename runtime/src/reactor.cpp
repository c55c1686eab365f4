#include "reactor.hpp"

#include <stdexcept>
#include <vector>

#include "gprofid/clock.hpp"

namespace gprofid {

reactor::reactor(bool manual_clock, std::int64_t start_ns)
    : manual_(manual_clock), manual_now_(start_ns) {}

reactor::~reactor() {
  stop();
}

void reactor::start() {
  thread_ = std::thread([this] { loop(); });
}

void reactor::stop() noexcept {
  stopping_.store(true, std::memory_order_release);
  poller_.wake();
  if (thread_.joinable()) thread_.join();
}

std::int64_t reactor::now_ns() const noexcept {
  return manual_ ? manual_now_.load(std::memory_order_acquire) : monotonic_ns();
}

timer_id reactor::add_timer(std::int64_t deadline_ns, timer_queue::callback cb) {
  std::lock_guard guard(timers_m_);
  timer_id id = timers_.push(deadline_ns, std::move(cb));
  if (!manual_ && deadline_ns < next_deadline_.load(std::memory_order_relaxed)) {
    next_deadline_.store(deadline_ns, std::memory_order_relaxed);
  }
  // Only an earlier deadline needs the descriptor re-armed; the reactor re-arms for later ones
  // after each expiry.
  if (!manual_ && deadline_ns < armed_ns_) {
    armed_ns_ = deadline_ns;
    poller_.arm_timer(deadline_ns > 0 ? deadline_ns : 1);
  }
  return id;
}

bool reactor::cancel_timer(timer_id id) noexcept {
  std::lock_guard guard(timers_m_);
  return timers_.cancel(id);
}

void reactor::advance_clock(std::int64_t d_ns) {
  if (!manual_) throw std::logic_error("advance_clock needs runtime_options::manual_clock");
  if (d_ns < 0) throw std::invalid_argument("advance_clock: negative duration");
  const std::int64_t now = manual_now_.fetch_add(d_ns, std::memory_order_acq_rel) + d_ns;
  fire_due(now);
}

std::size_t reactor::pending_timers() const {
  std::lock_guard guard(timers_m_);
  return timers_.size();
}

void reactor::discard_timers() noexcept {
  timer_queue dropped;
  {
    std::lock_guard guard(timers_m_);
    std::swap(dropped, timers_);
    next_deadline_.store(INT64_MAX, std::memory_order_relaxed);
  }
  // Callbacks are destroyed outside the lock: their captures may own channels.
}

void reactor::fire_due(std::int64_t now_ns) {
  // One timer at a time, outside the lock: a callback may add timers (a ticker re-arming), and
  // those that are already due fire in this same pass, in deadline order.
  for (;;) {
    std::optional<timer_queue::callback> cb;
    {
      std::lock_guard guard(timers_m_);
      cb = timers_.pop_due(now_ns);
      publish_next_locked();
    }
    if (!cb) return;
    if (*cb) (*cb)();
  }
}

void reactor::publish_next_locked() noexcept {
  if (manual_) return;
  const auto next = timers_.next_deadline();
  next_deadline_.store(next ? *next : INT64_MAX, std::memory_order_relaxed);
}

void reactor::fire_due_unless_firing(std::int64_t now_ns) {
  std::unique_lock firing(fire_m_, std::try_to_lock);
  if (!firing) return;
  fire_due(now_ns);
}

void reactor::rearm_locked() noexcept {
  const auto next = timers_.next_deadline();
  const std::int64_t want = next ? *next : INT64_MAX;
  if (want == armed_ns_) return;
  armed_ns_ = want;
  poller_.arm_timer(want == INT64_MAX ? 0 : (want > 0 ? want : 1));
}

void reactor::loop() {
  while (!stopping_.load(std::memory_order_acquire)) {
    const auto ev = poller_.poll(-1);
    if (manual_ || stopping_.load(std::memory_order_acquire)) continue;
    if (!ev.timer) continue;
    {
      // The descriptor has expired, so it is disarmed: a timer added while firing must arm it
      // again even if its deadline equals the one that just expired.
      std::lock_guard guard(timers_m_);
      armed_ns_ = INT64_MAX;
    }
    {
      std::lock_guard firing(fire_m_);
      fire_due(monotonic_ns());
    }
    std::lock_guard guard(timers_m_);
    rearm_locked();
  }
}

}  // namespace gprofid
