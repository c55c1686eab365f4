// The reactor: one thread per runtime that waits in epoll for socket readiness and for the next
// timer deadline, and makes the goroutines waiting on them runnable. Also owns the timer clock.
// Busy workers fire due timers too, between two runs (scheduler::find_work), so timers keep
// their pace when every core runs goroutines.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>

#include "gprofid/detail/poller.hpp"
#include "timer_queue.hpp"

namespace gprofid {

class reactor {
 public:
  // With a manual clock, time starts at `start_ns` and moves only in advance_clock().
  reactor(bool manual_clock, std::int64_t start_ns);
  ~reactor();
  reactor(const reactor&) = delete;
  reactor& operator=(const reactor&) = delete;

  void start();
  // Joins the thread; timers stay queued and no longer fire (the runtime frees their
  // goroutines). Idempotent.
  void stop() noexcept;

  bool manual_clock() const noexcept { return manual_; }
  // Timer time in nanoseconds (monotonic_ns() unless the clock is manual).
  std::int64_t now_ns() const noexcept;

  // Runs `cb` on the reactor thread (or in advance_clock) once the timer clock reaches
  // `deadline_ns`. Callbacks must be short and must not block; any thread.
  timer_id add_timer(std::int64_t deadline_ns, timer_queue::callback cb);
  // True if the timer had not fired yet; it now never will.
  bool cancel_timer(timer_id id) noexcept;
  // Manual clock only: moves time forward by `d_ns` and fires every timer now due, in deadline
  // order, on the calling thread.
  void advance_clock(std::int64_t d_ns);
  std::size_t pending_timers() const;
  // The earliest pending deadline (perhaps of a cancelled timer), INT64_MAX if none or if the
  // clock is manual: one relaxed load, for a worker to decide whether to fire timers.
  std::int64_t next_deadline_hint() const noexcept {
    return next_deadline_.load(std::memory_order_relaxed);
  }
  // Fires the timers due at `now_ns` on the calling worker, unless another thread is firing
  // (callbacks never run concurrently, and run in deadline order). Real clock only.
  void fire_due_unless_firing(std::int64_t now_ns);
  // Drops every queued timer without firing it (teardown, after stop()).
  void discard_timers() noexcept;

  poller& io() noexcept { return poller_; }

 private:
  void loop();
  void fire_due(std::int64_t now_ns);
  void rearm_locked() noexcept;
  void publish_next_locked() noexcept;

  const bool manual_;
  std::atomic<std::int64_t> manual_now_;
  poller poller_;
  // Held while firing, by the reactor thread or a worker: one firer at a time. Taken before
  // timers_m_ (callbacks add timers).
  std::mutex fire_m_;
  mutable std::mutex timers_m_;
  timer_queue timers_;
  std::atomic<std::int64_t> next_deadline_{INT64_MAX};  // written under timers_m_
  std::int64_t armed_ns_ = INT64_MAX;  // what the timer descriptor is armed for (real clock)
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace gprofid
