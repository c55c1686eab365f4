// The runtime instance: scheduler, goroutine registry and the services built on them. A program
// creates one, runs its main coroutine with run(), and spawns goroutines with go().
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <source_location>
#include <string>
#include <vector>

#include "gprofid/detail/goroutine.hpp"
#include "gprofid/snapshot.hpp"
#include "gprofid/task.hpp"

namespace gprofid {

// What happens when an exception escapes a goroutine's root coroutine.
enum class exception_policy {
  abort,  // print the report to stderr and abort, like Go's unrecovered panic (the default)
  log,    // print the report to stderr and keep running
};

// An exception that escaped a goroutine, with where it happened.
struct goroutine_failure {
  std::uint64_t id = 0;
  spawn_site site;
  std::string what;
  std::string report;  // Go-style: "panic: ...\n\ngoroutine N [running]:\n..."
};

struct runtime_options {
  // Worker threads; 0 means $GPROFID_WORKERS if set, else the number of cores.
  std::size_t workers = 0;
  exception_policy on_exception = exception_policy::abort;
  // Called (on the worker) for every escaped exception, before the policy applies.
  std::function<void(const goroutine_failure&)> on_failure{};
  // Timers (sleep_for, after, ...) run on a clock that moves only in advance_clock(), so tests
  // of timed code are deterministic. Scheduling statistics always use the real clock.
  bool manual_clock = false;
  // Seeds select's random choice among ready cases (worker i draws from seed + i). 0 means
  // $GPROFID_SELECT_SEED if set, else the clock. With one worker, a program that runs the same
  // way makes the same choices again: a failure seen with a seed replays with it.
  std::uint64_t select_seed = 0;
};

class reactor;
class registry;
class scheduler;
namespace detail {
class stack_interner;
}

// Services hook into the runtime's life (the in-process sampler is one).
class runtime_service {
 public:
  virtual ~runtime_service() = default;
  virtual void start(class runtime& rt) = 0;
  virtual void stop() = 0;
};

// A sampler's place in a runtime's stream of changes, for runtime::take_snapshot_delta. One
// cursor at a time follows a runtime's changes (others get full snapshots); it must not outlive
// the runtime. Destroying it stops change tracking.
class change_cursor {
 public:
  change_cursor() = default;
  ~change_cursor();
  change_cursor(const change_cursor&) = delete;
  change_cursor& operator=(const change_cursor&) = delete;
  // Stops change tracking now, while the runtime lives (the next delta is full again). The
  // destructor does it too; call this first when the cursor outlives its runtime.
  void release() noexcept;
  // Deltas carry the wait-for graph (snapshot_delta::graph) while at most `n` goroutines were
  // parked on a graph object at the previous instant: reading it costs, per such goroutine,
  // what a full snapshot spends on its wait. Past the limit deltas carry none until a full
  // snapshot finds the graph small again. 0 (the default): deltas never carry one.
  void set_graph_limit(std::size_t n) noexcept { graph_limit_ = n; }
  // Deltas (not full ones) give a changed goroutine whose frames did not move since this
  // cursor last had its whole stack goroutine_record::stack == frames_kept and innermost_at,
  // instead of copying and interning its frames: for an owner that keeps each goroutine's
  // stack. Off (the default): every record has its stack in snapshot::stacks.
  void set_keep_frames(bool on) noexcept { keep_frames_ = on; }

 private:
  friend class runtime;
  class runtime* rt_ = nullptr;
  std::uint64_t epoch_ = 0;  // the previous snapshot's
  // Goroutines in the previous snapshot that are already gone: exits of the next delta.
  std::vector<std::uint64_t> pending_exits_;
  std::size_t graph_limit_ = 0;
  bool keep_frames_ = false;
  // The goroutines parked on a graph object at the previous instant, when there were at most
  // graph_limit_ (parked_known_). Each is alive until the next delta takes it off a changed
  // list: it must be woken (and so listed) before it can exit, and a listed goroutine is kept.
  std::vector<goroutine*> parked_;
  bool parked_known_ = false;
};

class runtime {
 public:
  explicit runtime(runtime_options options = {});
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  // Runs `main` as goroutine 1 until it returns, then stops every worker and frees every
  // goroutine still alive (as Go exits when main returns). Rethrows main's exception.
  void run(task<void> main, std::source_location site = std::source_location::current());

  // Starts `t` as a new goroutine, from any thread (a goroutine, main() before or during run(),
  // a thread of the program's own); its parent is the calling goroutine, if any (else 0), and
  // its spawn site the line of the call. Inside a goroutine, go(t) says the same.
  std::uint64_t spawn(task<void> t, std::source_location site = std::source_location::current());
  // The same with the spawn site given.
  std::uint64_t spawn(task<void> t, spawn_site site);

  // A consistent snapshot of all goroutines; see docs/snapshot.md for the guarantee.
  snapshot take_snapshot();
  // What changed since `cursor`'s previous snapshot, in work proportional to the changes
  // (docs/snapshot.md, "Incremental snapshots"); a full snapshot the first time, when `refresh`,
  // or while another cursor follows this runtime. A cursor serves one runtime only.
  snapshot_delta take_snapshot_delta(change_cursor& cursor, bool refresh = false);

  // The runtime whose worker runs the calling thread, or null.
  static runtime* current() noexcept;

  std::size_t workers() const noexcept;
  // The seed select draws from on this runtime's workers (0: seeded from the clock).
  std::uint64_t select_seed() const noexcept { return options_.select_seed; }
  std::size_t live_goroutines() const noexcept;
  // The instant the runtime was created (monotonic ns): the zero of recordings.
  std::int64_t started_ns() const noexcept { return started_ns_; }

  void add_service(std::unique_ptr<runtime_service> s);

  // The timer clock (see timer_clock.hpp) in nanoseconds.
  std::int64_t now_ns() const noexcept;
  // Manual clock only: moves timer time forward and fires every timer now due, in deadline
  // order, on the calling thread (inside a goroutine or not). Throws std::logic_error otherwise.
  void advance_clock(std::chrono::nanoseconds d);
  // The thread that runs timers and socket readiness (see reactor.hpp).
  reactor& io_reactor() noexcept { return *reactor_; }

  // The scheduler ends goroutines through finish() and report_lost(), and has goroutines the
  // walk of a snapshot has not reached record themselves (record_unreached).
  friend class scheduler;

 private:
  void finish(goroutine* g) noexcept;
  void report_lost(goroutine* g) noexcept;
  struct capture;
  goroutine* create(task<void> t, spawn_site site);
  // Everything but the stack; g->lock held. `instant_ns` ends the slice in progress of a running
  // goroutine.
  goroutine_record make_record(const goroutine* g, std::int64_t instant_ns) const;
  // An exiting goroutine that a running snapshot has not reached yet records itself; g->lock held.
  void record_exiting(goroutine* g);
  // The same for a goroutine about to change state (start or end a run, be woken), so it is
  // recorded as it was at the instant; takes g->lock. Only while a walk is active.
  void record_unreached(goroutine* g) noexcept;
  // Appends g's record to the active capture unless a walk has claimed it; g->lock held.
  bool claim_for_capture(goroutine* g);
  // The instant of a snapshot or delta: a new walk epoch, with `cap` active for goroutines that
  // record themselves; and its end: `cap` inactive, their records added to `snap`, the walk
  // ended (blocks retired meanwhile are freed).
  void begin_capture(capture& cap, snapshot& snap);
  void finish_capture(capture& cap, detail::stack_interner& stacks, snapshot& snap);
  // The full walk of take_snapshot; with a cursor, it also starts following changes for it.
  snapshot walk_all(change_cursor* cursor);
  snapshot_delta walk_changed(change_cursor& cursor);
  // A delta's record of g's stack: frames_kept if the cursor keeps frames and they did not
  // move, else interned (clearing frames_moved); g->lock held.
  static void record_stack(const change_cursor& c, goroutine* g, detail::stack_interner& stacks,
                           goroutine_record& r);
  // Lists g for the cursor's next delta, or notes its exit if it is already gone.
  void follow_after(change_cursor& c, goroutine* g, std::uint64_t epoch);
  // Keeps the goroutines parked on graph objects at this instant for the cursor's next delta,
  // within its graph limit (change_cursor::parked_).
  static void keep_parked(change_cursor& c, std::vector<goroutine*> parked);
  friend class change_cursor;
  void release(change_cursor& c) noexcept;
  void handle_failure(goroutine* g, const std::exception_ptr& e);
  // Keeps the stack an exception escaped from (see registry::note_panic), from the frame's
  // unhandled_exception.
  friend void detail::note_escaping_exception(promise_base& p) noexcept;
  void note_panic(goroutine& g, const promise_base& p) noexcept;

  runtime_options options_;
  std::int64_t started_ns_;
  std::unique_ptr<registry> registry_;
  std::unique_ptr<scheduler> sched_;
  std::unique_ptr<reactor> reactor_;
  std::vector<std::unique_ptr<runtime_service>> services_;
  bool ran_ = false;
  std::uint64_t main_id_ = 0;

  std::mutex main_m_;
  std::condition_variable main_cv_;
  bool main_done_ = false;
  std::exception_ptr main_exception_;

  std::mutex snapshot_m_;             // one snapshot at a time; also guards tracker_
  change_cursor* tracker_ = nullptr;  // the cursor change tracking is for, if any
  std::mutex capture_m_;              // guards active_
  capture* active_ = nullptr;
};

// Spawns a goroutine on the current runtime (from inside a goroutine).
// Usage: gprofid::go(worker(id, jobs));
std::uint64_t go(task<void> t, std::source_location site = std::source_location::current());

}  // namespace gprofid
