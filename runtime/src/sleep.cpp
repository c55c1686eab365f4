#include "gprofid/sleep.hpp"

#include <limits>
#include <stdexcept>

#include "gprofid/clock.hpp"
#include "gprofid/detail/park.hpp"
#include "gprofid/runtime.hpp"
#include "reactor.hpp"

namespace gprofid {

timer_clock::time_point timer_clock::now() noexcept {
  runtime* rt = runtime::current();
  return time_point(duration(rt ? rt->now_ns() : monotonic_ns()));
}

bool sleep_awaiter::await_ready() const {
  runtime* rt = runtime::current();
  if (!rt || !current_goroutine()) throw std::logic_error("gprofid::sleep outside a goroutine");
  return deadline_.time_since_epoch().count() <= rt->now_ns();
}

void sleep_awaiter::await_suspend(std::coroutine_handle<> h) {
  goroutine* g = current_goroutine();
  // The timer may fire before park() below; ready() allows that. The goroutine is only freed
  // after the reactor has stopped, so the callback never sees a dead goroutine.
  runtime::current()->io_reactor().add_timer(deadline_.time_since_epoch().count(),
                                             [g] { ready(g); });
  // The awaiter lives in the parked frame: the snapshot's timer object (docs/wait-graph.md).
  park(h, wait_reason::sleep, {wait_object_kind::timer, this});
}

sleep_awaiter sleep_until(timer_clock::time_point deadline) noexcept {
  return sleep_awaiter(deadline);
}

sleep_awaiter sleep_for(std::chrono::nanoseconds d) noexcept {
  const std::int64_t now = timer_clock::now().time_since_epoch().count();
  const std::int64_t max = std::numeric_limits<std::int64_t>::max();
  const std::int64_t deadline = d.count() <= 0          ? now
                                : d.count() > max - now ? max
                                                        : now + d.count();
  return sleep_awaiter(timer_clock::time_point(timer_clock::duration(deadline)));
}

}  // namespace gprofid
