// The M:N scheduler: N worker threads, each with its own run queue, stealing from one another
// when idle, plus a global injection queue for goroutines made runnable off-worker (timers, I/O,
// external spawns). Idle workers sleep on a condition variable.
#pragma once

#include <atomic>
#include <condition_variable>
#include <coroutine>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "gprofid/detail/goroutine.hpp"
#include "gprofid/detail/spinlock.hpp"

namespace gprofid {

class runtime;
class scheduler;

namespace detail {
enum class outcome : std::uint8_t { none, parked, yielded, finished };

// Per worker thread: what it is running and how the last resume ended.
struct worker_context {
  scheduler* sched = nullptr;
  std::size_t index = 0;
  goroutine* current = nullptr;
  outcome last = outcome::none;
  wait_reason reason = wait_reason::none;  // with outcome::parked
};

worker_context* this_worker() noexcept;
}  // namespace detail

class scheduler {
 public:
  scheduler(runtime& rt, std::size_t workers);
  ~scheduler();
  scheduler(const scheduler&) = delete;
  scheduler& operator=(const scheduler&) = delete;

  void start();
  // Stops and joins the workers; goroutines still queued stay queued (the runtime frees them).
  void stop();

  std::size_t workers() const noexcept { return workers_.size(); }
  runtime& owner() const noexcept { return rt_; }

  // Queues a runnable goroutine: on the calling worker's own queue when called from one of this
  // scheduler's workers, else on the global queue.
  void schedule(goroutine* g) noexcept;
  // Makes a parked goroutine runnable; safe from any thread, including while it is parking.
  void ready(goroutine* g) noexcept;

 private:
  struct alignas(64) worker {
    spinlock m;  // held for a push or pop only
    std::deque<goroutine*> queue;
    std::thread thread;
    detail::worker_context ctx;
    // The clock as last read by this worker. One read per switch serves as the end of one run
    // and the start of the next, and dates goroutines this worker makes runnable meanwhile.
    std::int64_t now_ns = 0;
  };

  void run_worker(worker& w);
  goroutine* find_work(worker& w, std::uint32_t tick);
  goroutine* pop_global();
  goroutine* steal(worker& thief);
  void execute(worker& w, goroutine* g);
  void notify_work() noexcept;
  bool any_work();

  runtime& rt_;
  std::vector<std::unique_ptr<worker>> workers_;
  spinlock global_m_;
  std::deque<goroutine*> global_;
  std::atomic<std::size_t> global_size_{0};

  std::mutex idle_m_;
  std::condition_variable idle_cv_;
  std::atomic<int> idle_{0};
  int wake_tokens_ = 0;
  std::atomic<bool> stopping_{false};
};

}  // namespace gprofid
