#include "scheduler.hpp"
#include "wait_graph.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <mutex>
#include <stdexcept>

#include "asymmetric_fence.hpp"
#include "gprofid/clock.hpp"
#include "gprofid/detail/config.hpp"
#include "gprofid/runtime.hpp"
#include "reactor.hpp"
#include "registry.hpp"

namespace gprofid {
namespace detail {
namespace {
thread_local worker_context* current_worker = nullptr;
}
worker_context* this_worker() noexcept {
  return current_worker;
}

constinit std::atomic<scheduler*> schedulers[max_schedulers]{};

namespace {
std::mutex schedulers_m;          // guards claiming and clearing slots of `schedulers`
std::size_t next_scheduler_slot;  // where the search for a free slot starts; schedulers_m

std::uint16_t claim_scheduler_slot(scheduler* s) {
  std::lock_guard guard(schedulers_m);
  for (std::size_t k = 0; k < max_schedulers; ++k) {
    const std::size_t i = (next_scheduler_slot + k) % max_schedulers;
    if (schedulers[i].load(std::memory_order_relaxed) == nullptr) {
      schedulers[i].store(s, std::memory_order_relaxed);
      next_scheduler_slot = i + 1;
      return static_cast<std::uint16_t>(i);
    }
  }
  throw std::runtime_error("gprofid::runtime: more than 65536 runtimes at once");
}
}  // namespace
}  // namespace detail

scheduler::scheduler(runtime& rt, std::size_t workers)
    : rt_(rt), index_(detail::claim_scheduler_slot(this)), reg_(*rt.registry_) {
  if (workers == 0) workers = 1;
  for (std::size_t i = 0; i < workers; ++i) {
    auto w = std::make_unique<worker>();
    w->ctx.sched = this;
    w->ctx.index = i;
    workers_.push_back(std::move(w));
  }
}

scheduler::~scheduler() {
  stop();
  std::lock_guard guard(detail::schedulers_m);
  detail::schedulers[index_].store(nullptr, std::memory_order_relaxed);
}

void scheduler::start() {
  for (auto& w : workers_) {
    w->thread = std::thread([this, raw = w.get()] { run_worker(*raw); });
  }
}

void scheduler::halt() noexcept {
  {
    std::lock_guard guard(idle_m_);
    stopping_.store(true);
  }
  idle_cv_.notify_all();
}

void scheduler::stop() {
  halt();
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
}

void scheduler::schedule(goroutine* g) noexcept {
  g->status.store(run_status::runnable, std::memory_order_release);
  auto* ctx = detail::this_worker();
  if (ctx && ctx->sched == this) {
    queue_local(*workers_[ctx->index], g, false);
  } else {
    queue_global(g);
  }
}

void scheduler::queue_local(worker& w, goroutine* g, bool woken) noexcept {
  // now_ns is 0 while the worker's first goroutine after idling runs: do not count runnable
  // time from the clock's epoch.
  // The cached clock may be older than the goroutine's creation or its last park (both read
  // afresh); it cannot have become runnable before either.
  g->stamp_ns.store(std::max({clock_of(w), g->created_ns, g->wait_since_ns}),
                    std::memory_order_relaxed);
  {
    std::lock_guard guard(w.m);
    if (woken && w.runnext == nullptr) {
      // Runs at this worker's next round: no other worker needs waking for it.
      w.runnext = g;
      w.runnext_round = w.rounds.load(std::memory_order_relaxed);
      return;
    }
    w.queue.push_back(g);
    // Spawned, yielded or timer-woken: an idle worker may take it at once. A goroutine the
    // running one woke waits here for this worker, like runnext, unless it waits too long.
    if (!woken) ++w.announced;
  }
  if (!woken) notify_work();
}

void scheduler::queue_global(goroutine* g) noexcept {
  g->stamp_ns.store(monotonic_ns(), std::memory_order_relaxed);
  {
    std::lock_guard guard(global_m_);
    global_.push_back(g);
    global_size_.fetch_add(1, std::memory_order_relaxed);
  }
  notify_work();
}

void scheduler::ready(goroutine* g) noexcept {
  auto s = g->status.load(std::memory_order_acquire);
  for (;;) {
    if (s == run_status::waiting) {
      before_transition(g);  // waiting -> runnable
      if (g->status.compare_exchange_weak(s, run_status::runnable, std::memory_order_acq_rel)) {
        auto* ctx = detail::this_worker();
        const bool local = ctx && ctx->sched == this;
        // After the change, for incremental snapshots (see asymmetric_fence.hpp); before it is
        // queued, so before it can run (or end).
        detail::light_fence();
        reg_.note_changed(g, local ? ctx->index : workers_.size());
        if (local) {
          // Woken by the goroutine running here (not by a timer this worker fires between runs).
          queue_local(*workers_[ctx->index], g, ctx->current != nullptr);
        } else {
          queue_global(g);
        }
        return;
      }
    } else if (s == run_status::running) {
      // Still inside the primitive's await_suspend on its worker: that worker requeues it.
      if (g->status.compare_exchange_weak(s, run_status::woken_while_parking,
                                          std::memory_order_acq_rel)) {
        return;
      }
    } else {
      return;  // already runnable: a wake-up must be idempotent
    }
  }
}

void scheduler::notify_work() noexcept {
  // Pairs with the idle worker's fetch_add before its last look at the queues: either it sees
  // the goroutine just queued, or this sees it idle and wakes it.
#if defined(__SANITIZE_THREAD__)
  if (idle_.fetch_add(0, std::memory_order_seq_cst) == 0) return;  // TSan does not model fences
#else
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (idle_.load(std::memory_order_seq_cst) == 0) return;
#endif
  {
    std::lock_guard guard(idle_m_);
    ++wake_tokens_;
  }
  idle_cv_.notify_one();
}

bool scheduler::any_work() {
  if (global_size_.load(std::memory_order_relaxed) != 0) return true;
  const std::int64_t now = monotonic_ns();
  for (auto& w : workers_) {
    std::lock_guard guard(w->m);
    if (stealable(*w, now)) return true;
  }
  return false;
}

void scheduler::take_global(worker& w) {
  if (global_size_.load(std::memory_order_relaxed) == 0) return;
  std::lock_guard guard(global_m_);
  std::lock_guard local(w.m);
  w.queue.insert(w.queue.end(), global_.begin(), global_.end());
  global_.clear();
  global_size_.store(0, std::memory_order_relaxed);
}

goroutine* scheduler::pop_global() {
  if (global_size_.load(std::memory_order_relaxed) == 0) return nullptr;
  std::lock_guard guard(global_m_);
  if (global_.empty()) return nullptr;
  goroutine* g = global_.front();
  global_.pop_front();
  global_size_.fetch_sub(1, std::memory_order_relaxed);
  return g;
}

bool scheduler::stealable(const worker& w, std::int64_t now) noexcept {
  return !w.queue.empty() &&
         (w.announced != 0 ||
          now - w.queue.front()->stamp_ns.load(std::memory_order_relaxed) >= steal_grace_ns);
}

goroutine* scheduler::steal(worker& thief) {
  // Half of a victim's queue, at most a batch: enough to stay busy, bounded so the loot lives on
  // the stack (an idle worker retries stealing often; it must not allocate to do so).
  constexpr std::size_t max_batch = 128;
  std::array<goroutine*, max_batch> loot;
  const std::size_t n = workers_.size();
  for (std::size_t k = 1; k < n; ++k) {
    auto& victim = *workers_[(thief.ctx.index + k) % n];
    std::size_t taken = 0;
    {
      std::lock_guard guard(victim.m);
      const std::size_t take = stealable(victim, monotonic_ns())
                                   ? std::min((victim.queue.size() + 1) / 2, max_batch)
                                   : 0;
      if (take != 0) victim.announced = 0;
      for (; taken < take; ++taken) {
        loot[taken] = victim.queue.front();
        victim.queue.pop_front();
      }
      // Not ahead of goroutines queued before it (their grace not over).
      if (taken == 0 && victim.queue.empty() && victim.runnext) {
        if (goroutine* g = steal_stale_runnext(thief, victim)) return g;
      }
    }
    if (taken == 0) continue;
    if (taken > 1) {
      std::lock_guard guard(thief.m);
      thief.queue.insert(thief.queue.end(), loot.begin() + 1, loot.begin() + taken);
    }
    return loot[0];
  }
  return nullptr;
}

goroutine* scheduler::steal_stale_runnext(worker& thief, worker& victim) {
  // victim.m held. The slot is stale once the same goroutine has sat in it through one round of
  // its worker (the waker kept running) since this thief first saw it, a while ago.
  const std::uint64_t round = victim.rounds.load(std::memory_order_relaxed);
  const std::int64_t now = monotonic_ns();
  auto& seen = thief.seen_runnext;
  if (seen.victim != &victim || seen.g != victim.runnext || seen.round != round ||
      victim.runnext_round != round) {
    seen = {&victim, victim.runnext, round, now};
    return nullptr;
  }
  if (now - seen.since_ns < runnext_steal_after_ns) return nullptr;
  seen = {};
  return std::exchange(victim.runnext, nullptr);
}

void scheduler::fire_due_timers(worker& w) {
  // Busy workers fire due timers themselves, once per round, so that a goroutine a timer wakes
  // does not wait for the reactor thread to get a CPU (2 cores, 2 busy workers) and then sit in
  // the global queue: it joins this worker's queue.
  reactor& r = rt_.io_reactor();
  const std::int64_t next = r.next_deadline_hint();
  if (next == INT64_MAX) return;
  // Untracked builds read no clock per switch: read it here, only while timers are pending.
  std::int64_t now = w.now_ns;
  if (!GPROFID_TRACKING || now == 0) now = w.clock.now();
  if constexpr (GPROFID_TRACKING) w.now_ns = now;
  if (now >= next) r.fire_due_unless_firing(now);
}

bool scheduler::poll_io(worker& w, bool drained) {
  poller& io = rt_.io_reactor().io();
  if (!io.has_waiters()) return false;
  if (!drained && ++w.rounds_since_io_poll < io_poll_rounds &&
      (w.now_ns == 0 || w.now_ns - w.io_polled_ns < io_poll_interval_ns)) {
    return false;
  }
  w.rounds_since_io_poll = 0;
  w.io_polled_ns = w.now_ns;
  io.poll_ready_now();  // readies them here: ready() off a run queues on this worker
  return true;
}

goroutine* scheduler::find_work(worker& w, std::uint32_t tick) {
  fire_due_timers(w);
  poll_io(w, false);
  // Like Go's schedule(): look at the global queue now and then so it cannot starve.
  if (tick % 61 == 0) {
    if (goroutine* g = pop_global()) return g;
  }
  goroutine* found = nullptr;
  {
    std::lock_guard guard(w.m);
    if (w.runnext) {
      goroutine* g = std::exchange(w.runnext, nullptr);
      if (++w.runnext_streak <= runnext_budget || w.queue.empty()) return g;
      // Budget spent: it queues behind the others, like a goroutine whose time slice ended.
      w.queue.push_back(g);
    }
    w.runnext_streak = 0;
    if (!w.queue.empty()) {
      goroutine* g = w.queue.front();
      w.queue.pop_front();
      if (w.queue.empty()) {
        w.announced = 0;
        return g;
      }
      if (idle_.load(std::memory_order_relaxed) == 0) return g;
      // The queue behind it may have waited too long for this worker. An idle worker looks
      // every millisecond while this one is busy, but may sleep for longer, having gone to
      // sleep while every worker was idle: wake one (once per grace period, not every round).
      const std::int64_t now = clock_of(w);
      if (now - w.backlog_noted_ns < steal_grace_ns || !stealable(w, now)) return g;
      w.backlog_noted_ns = now;
      found = g;
    }
  }
  if (found) {
    notify_work();
    return found;
  }
  if (goroutine* g = pop_global()) return g;
  // Nothing queued here: a goroutine whose socket is ready comes before stealing or sleeping.
  if (poll_io(w, true)) {
    std::lock_guard guard(w.m);
    if (!w.queue.empty()) {
      goroutine* g = w.queue.front();
      w.queue.pop_front();
      return g;
    }
  }
  return steal(w);
}

void scheduler::run_worker(worker& w) {
  detail::current_worker = &w.ctx;
  std::uint32_t tick = 0;
  while (!stopping_.load(std::memory_order_acquire)) {
    if (goroutine* g = find_work(w, ++tick)) {
      execute(w, g);
      continue;
    }
    w.now_ns = 0;  // stale once idle
    std::unique_lock lock(idle_m_);
    idle_.fetch_add(1, std::memory_order_seq_cst);
    if (any_work() || stopping_.load()) {
      idle_.fetch_sub(1, std::memory_order_seq_cst);
      continue;
    }
    // The timeout is a safety net only; wake-ups come from notify_work(). But a goroutine put
    // in a busy worker's runnext is not announced: while any worker is busy, look again every
    // millisecond, to steal it if its waker keeps running (steal_stale_runnext).
    const bool others_busy =
        idle_.load(std::memory_order_relaxed) < static_cast<int>(workers_.size());
    const auto patience =
        others_busy ? std::chrono::milliseconds(1) : std::chrono::milliseconds(100);
    idle_cv_.wait_for(lock, patience, [&] { return wake_tokens_ > 0 || stopping_.load(); });
    if (wake_tokens_ > 0) --wake_tokens_;
    idle_.fetch_sub(1, std::memory_order_seq_cst);
  }
  detail::current_worker = nullptr;
}

// While a snapshot walks, a goroutine it has not reached records itself before changing state
// (docs/snapshot.md, guarantee 7). One load of the registry's walk counter otherwise.
inline void scheduler::before_transition(goroutine* g) noexcept {
  if (reg_.walking()) rt_.record_unreached(g);
}

void scheduler::execute(worker& w, goroutine* g) {
  before_transition(g);  // runnable -> running
  std::int64_t start = 0;
  if constexpr (GPROFID_TRACKING) {
    // The cached clock may predate a wake-up stamped afresh by a timer or I/O thread.
    const std::int64_t ready_at = g->stamp_ns.load(std::memory_order_relaxed);
    start = std::max(clock_of(w), ready_at);
    g->runnable_ns.store(g->runnable_ns.load(std::memory_order_relaxed) + (start - ready_at),
                         std::memory_order_relaxed);
    g->stamp_ns.store(-start, std::memory_order_relaxed);  // a run in progress
  }
  if (g->blocked_object.load(std::memory_order_relaxed)) {
    // Once it runs, the object it waited on may go. A snapshot reads the record and the object
    // under g->lock after announcing itself in graph_readers; clearing first, then looking at
    // graph_readers (both seq_cst), either makes that snapshot see no record, or waits here for
    // its read to end.
    g->blocked_object.store(nullptr, std::memory_order_seq_cst);
    if (detail::graph_readers.load(std::memory_order_seq_cst) != 0) {
      std::lock_guard guard(g->lock);
    }
  }
  g->resumes.store(g->resumes.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  w.rounds.store(w.rounds.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  g->status.store(run_status::running, std::memory_order_release);
  // For incremental snapshots, after the change (see asymmetric_fence.hpp). The run it starts
  // is followed to its end: a delta that reads g running lists it again, so the end of the run
  // (and an exit) need no call of their own.
  detail::light_fence();
  reg_.note_changed(g, w.ctx.index);
  w.ctx.current = g;
  w.ctx.last = detail::outcome::none;
  g->resume_point.resume();
  w.ctx.current = nullptr;
  if (w.ctx.last != detail::outcome::finished) before_transition(g);  // the run ends
  if constexpr (GPROFID_TRACKING) {
    // The one clock read of a switch: the end of this run, the start of the next, and the date
    // of whatever this worker makes runnable meanwhile.
    w.now_ns = w.clock.now();
  }
  if (GPROFID_TRACKING || w.ctx.last == detail::outcome::parked) {
    // One critical section: a snapshot sees this run either in progress or in running_ns.
    std::lock_guard guard(g->lock);
    if constexpr (GPROFID_TRACKING) {
      g->running_ns.store(g->running_ns.load(std::memory_order_relaxed) +
                              std::max<std::int64_t>(0, w.now_ns - start),
                          std::memory_order_relaxed);
      g->stamp_ns.store(0, std::memory_order_relaxed);
    }
    if (w.ctx.last == detail::outcome::parked) {
      g->reason = w.ctx.reason;
      g->wait_since_ns = w.now_ns;
      g->blocked_kind = w.ctx.blocked.kind;
      g->blocked_object.store(w.ctx.blocked.object, std::memory_order_relaxed);
      w.ctx.blocked = {};
    }
  }

  switch (w.ctx.last) {
    case detail::outcome::finished:
      rt_.finish(g);
      break;
    case detail::outcome::yielded:
      // Behind whatever timers, the reactor and other threads made runnable meanwhile, as Go's
      // Gosched puts it behind the global queue: fire the due timers and take the global queue
      // first. (Queued on the global queue itself, the every-61st-round look there could
      // resume it ahead of this worker's queue.)
      g->status.store(run_status::runnable, std::memory_order_release);
      fire_due_timers(w);
      take_global(w);
      queue_local(w, g, false);
      break;
    case detail::outcome::parked: {
      auto expected = run_status::running;
      if (!g->status.compare_exchange_strong(expected, run_status::waiting,
                                             std::memory_order_acq_rel)) {
        schedule(g);  // woken while parking
      }
      break;
    }
    case detail::outcome::none:
      // A frame suspended without telling the scheduler (an awaitable from outside the runtime).
      rt_.report_lost(g);
      break;
  }
}

}  // namespace gprofid
