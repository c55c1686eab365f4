// The M:N scheduler: N worker threads, each with its own run queue and a runnext slot, stealing
// from one another when idle, plus a global queue for goroutines made runnable off-worker (timers
// fired by the reactor thread, I/O, external spawns) and for goroutines that yielded. Each round a
// busy worker fires the timers that are due itself. Idle workers sleep on a condition variable.
//
// Where a goroutine made runnable goes (docs/runtime.md, "Scheduling order"):
// - woken (ready()) by the goroutine running on a worker: that worker's runnext slot if it is free,
//   else the tail of its queue. runnext runs at the worker's next round, so a ping-pong pair stays
//   on one worker; the slot is not stolen until it is stale, and a worker takes at most
//   runnext_budget goroutines in a row from it before serving its queue. A primitive that wakes
//   several waiters wakes them in its FIFO order: the first takes the free slot, the others queue
//   behind it, so they still run in that order. Those queued ones are not announced to idle
//   workers either: they are stolen only once the queue's head has waited steal_grace_ns;
// - spawned on a worker, woken by a timer the worker fired, or woken while parking: the tail of
//   the worker's queue, announced (an idle worker is woken and may steal it at once);
// - yielded: the tail of the worker's queue, after the worker has fired the due timers and moved
//   the global queue there, so it runs behind everything timers, the reactor and other threads
//   made runnable (like Go's Gosched);
// - made runnable off-worker (reactor thread, other threads): the tail of the global queue, which
//   a worker serves when its own queue is empty and every 61st round;
// - woken by socket readiness a worker polled between runs (poll_io): the tail of its queue.
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
#include "tick_clock.hpp"

namespace gprofid {

class registry;
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
  blocked_on blocked;                      // with outcome::parked
};

worker_context* this_worker() noexcept;

// Every live scheduler, by the index its goroutines keep (goroutine::sched_index). A slot is
// written when its scheduler is made and cleared when it is destroyed; goroutines of a
// scheduler exist only in between.
inline constexpr std::size_t max_schedulers = 1 << 16;
extern std::atomic<scheduler*> schedulers[max_schedulers];
}  // namespace detail

inline scheduler& scheduler_of(const goroutine& g) noexcept {
  return *detail::schedulers[g.sched_index].load(std::memory_order_relaxed);
}

class scheduler {
 public:
  scheduler(runtime& rt, std::size_t workers);
  ~scheduler();
  scheduler(const scheduler&) = delete;
  scheduler& operator=(const scheduler&) = delete;

  void start();
  // Stops and joins the workers; goroutines still queued stay queued (the runtime frees them).
  void stop();
  // From any thread, a worker too: every worker ends its current run and then runs nothing
  // more (stop() still joins them). For the main goroutine's end: no goroutine may run once
  // main's frame, which others may point into, is gone, however long services take to stop.
  void halt() noexcept;

  std::size_t workers() const noexcept { return workers_.size(); }
  // This scheduler's slot in detail::schedulers.
  std::uint16_t index() const noexcept { return index_; }
  runtime& owner() const noexcept { return rt_; }

  // Queues a runnable goroutine: on the calling worker's own queue when called from one of this
  // scheduler's workers, else on the global queue.
  void schedule(goroutine* g) noexcept;
  // Makes a parked goroutine runnable; safe from any thread, including while it is parking.
  void ready(goroutine* g) noexcept;
  // Consecutive rounds a worker serves from runnext before it takes from its queue: a ping-pong
  // pair cannot keep the other goroutines of its worker waiting for longer.
  static constexpr std::uint32_t runnext_budget = 64;
  // A runnext goroutine that sat this long through one round of its worker (its waker kept
  // running) may be stolen by an idle worker.
  static constexpr std::int64_t runnext_steal_after_ns = 200'000;
  // A goroutine woken by the running one that found runnext taken queues behind it, unannounced:
  // its waker's worker runs it soon, and an idle worker that took it would contend with that
  // one on the channel or lock they share (worker_pool: 1000 goroutines on two channels; issue
  // 14, session 8). It may be stolen once the queue's head has waited this long; goroutines
  // spawned, yielded or woken by a timer are announced and may be stolen at once.
  static constexpr std::int64_t steal_grace_ns = 200'000;
  // Workers asleep on the idle condition variable (or about to be): for tests that idle
  // workers sleep rather than spin.
  std::size_t sleeping_workers() const noexcept {
    return static_cast<std::size_t>(idle_.load(std::memory_order_relaxed));
  }
  // While goroutines wait on sockets, a busy worker looks at socket readiness itself (epoll_wait
  // with timeout 0) this often, and whenever its queues run dry: a busy runtime then wakes them
  // without waiting for the reactor thread to get a CPU. Not every round: the look is a syscall
  // (~0.5 us here), rounds of a channel ping-pong ~0.2 us. The interval needs the per-switch
  // clock (tracked builds); the round count bounds it in every build.
  static constexpr std::int64_t io_poll_interval_ns = 100'000;
  static constexpr std::uint32_t io_poll_rounds = 1024;

 private:
  struct worker;
  struct runnext_sighting {
    worker* victim = nullptr;
    goroutine* g = nullptr;
    std::uint64_t round = 0;
    std::int64_t since_ns = 0;
  };
  struct alignas(64) worker {
    spinlock m;  // guards queue, runnext and runnext_round; held for a push or pop only
    std::deque<goroutine*> queue;
    goroutine* runnext = nullptr;  // woken by the goroutine running here; see the top
    std::uint64_t runnext_round = 0;
    std::uint32_t runnext_streak = 0;  // owner only: consecutive rounds served from runnext
    // Announced goroutines queued since the queue was last empty or stolen from (an upper
    // bound): while there are any, an idle worker steals at once; else only from a queue whose
    // head has waited steal_grace_ns (stealable()).
    std::uint32_t announced = 0;
    // Owner only: when it last woke an idle worker for its aged queue (find_work).
    std::int64_t backlog_noted_ns = 0;
    // Rounds (resumes) run by this worker; written by the owner only, read by thieves.
    std::atomic<std::uint64_t> rounds{0};
    // Thief only: the runnext goroutine of another worker this worker last found sitting there.
    runnext_sighting seen_runnext;
    std::thread thread;
    detail::worker_context ctx;
    // The clock as last read by this worker. One read per switch serves as the end of one run
    // and the start of the next, and dates goroutines this worker makes runnable meanwhile.
    std::int64_t now_ns = 0;
    detail::tick_clock clock;  // an rdtsc per read where the TSC is invariant
    // Owner only: rounds since this worker last polled socket readiness, and when (now_ns).
    std::uint32_t rounds_since_io_poll = 0;
    std::int64_t io_polled_ns = 0;
  };

  void run_worker(worker& w);
  void queue_local(worker& w, goroutine* g, bool woken) noexcept;
  void queue_global(goroutine* g) noexcept;
  void fire_due_timers(worker& w);
  // Polls socket readiness if goroutines wait on sockets and a poll is due (always, if the
  // worker's queues are `drained`); true if it polled.
  bool poll_io(worker& w, bool drained);
  goroutine* find_work(worker& w, std::uint32_t tick);
  goroutine* pop_global();
  // Moves the whole global queue to the tail of w's queue.
  void take_global(worker& w);
  goroutine* steal(worker& thief);
  // w.m held: an idle worker may take from w's queue now.
  static bool stealable(const worker& w, std::int64_t now) noexcept;
  // The worker's cached clock, or a fresh read while it has none (idle, untracked builds).
  static std::int64_t clock_of(worker& w) noexcept {
    return w.now_ns != 0 ? w.now_ns : w.clock.now();
  }
  goroutine* steal_stale_runnext(worker& thief, worker& victim);
  void before_transition(goroutine* g) noexcept;
  void execute(worker& w, goroutine* g);
  void notify_work() noexcept;
  bool any_work();

  runtime& rt_;
  std::uint16_t index_ = 0;
  // rt_'s registry (created before the scheduler, destroyed after it), kept here so that the
  // switch path's snapshot hooks load one pointer fewer.
  registry& reg_;
  std::vector<std::unique_ptr<worker>> workers_;
  spinlock global_m_;  // guards global_; taken before a worker's m (take_global)
  std::deque<goroutine*> global_;
  std::atomic<std::size_t> global_size_{0};

  std::mutex idle_m_;
  std::condition_variable idle_cv_;
  std::atomic<int> idle_{0};
  int wake_tokens_ = 0;
  std::atomic<bool> stopping_{false};
};

}  // namespace gprofid
