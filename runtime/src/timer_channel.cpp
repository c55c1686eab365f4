#include "gprofid/timer_channel.hpp"

#include <mutex>
#include <stdexcept>

#include "gprofid/runtime.hpp"
#include "reactor.hpp"

namespace gprofid {
namespace {

reactor& current_reactor() {
  runtime* rt = runtime::current();
  if (!rt) throw std::logic_error("gprofid timers are created from inside a goroutine");
  return rt->io_reactor();
}

// Timer callbacks run on the reactor thread, where nothing may escape.
void deliver(const chan<std::int64_t>& c, std::int64_t now) noexcept {
  try {
    c.try_send(now);
  } catch (const channel_closed&) {
    // The receiver closed its timer channel; Go would panic, a timer just stops delivering.
  }
}

}  // namespace

chan<std::int64_t> after(std::chrono::nanoseconds d) {
  reactor& r = current_reactor();
  auto c = make_chan<std::int64_t>(1);
  const std::int64_t now = r.now_ns();
  if (d.count() <= 0) {
    deliver(c, now);
    return c;
  }
  const std::int64_t deadline = d.count() > INT64_MAX - now ? INT64_MAX : now + d.count();
  c.state()->set_timer(deadline, 0);
  r.add_timer(deadline, [c, &r] {
    deliver(c, r.now_ns());
    c.state()->set_timer(0, 0);  // after the value: at every instant one of the two says so
  });
  return c;
}

struct ticker::state {
  reactor* r;
  std::int64_t period;
  chan<std::int64_t> c = make_chan<std::int64_t>(1);
  std::mutex m;  // orders fire against stop(); taken before the reactor's timer lock
  std::int64_t next = 0;
  timer_id pending;
  bool stopped = false;

  static void arm(const std::shared_ptr<state>& s) {
    s->pending = s->r->add_timer(s->next, [s] { s->fire(s); });
    s->c.state()->set_timer(s->next, s->period);
  }

  void fire(const std::shared_ptr<state>& self) noexcept {
    std::lock_guard guard(m);
    if (stopped) return;
    const std::int64_t now = r->now_ns();
    deliver(c, now);
    // Ticks the receiver (or the clock) skipped are dropped, not delivered late.
    next += period;
    if (next <= now) next += ((now - next) / period + 1) * period;
    try {
      arm(self);
    } catch (...) {
      stopped = true;  // out of memory: the ticker stops rather than throwing on the reactor
      c.state()->set_timer(0, 0);
    }
  }
};

ticker::ticker(std::chrono::nanoseconds period) {
  if (period.count() <= 0) throw std::invalid_argument("ticker: period must be positive");
  s_ = std::make_shared<state>();
  s_->r = &current_reactor();
  s_->period = period.count();
  s_->next = s_->r->now_ns() + s_->period;
  std::lock_guard guard(s_->m);
  state::arm(s_);
}

const chan<std::int64_t>& ticker::c() const noexcept {
  static const chan<std::int64_t> nil;
  return s_ ? s_->c : nil;
}

void ticker::stop() noexcept {
  if (!s_) return;
  std::lock_guard guard(s_->m);
  s_->stopped = true;
  s_->r->cancel_timer(s_->pending);
  s_->c.state()->set_timer(0, 0);
}

}  // namespace gprofid
