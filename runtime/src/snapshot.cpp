#include <algorithm>
#include <unordered_map>

#include "gprofid/clock.hpp"
#include "gprofid/runtime.hpp"
#include "registry.hpp"
#include "wait_graph.hpp"

namespace gprofid {
namespace {

goroutine_state visible_state(run_status s) {
  switch (s) {
    case run_status::runnable:
      return goroutine_state::runnable;
    case run_status::running:
    case run_status::woken_while_parking:
      return goroutine_state::running;
    case run_status::waiting:
      return goroutine_state::waiting;
    case run_status::dead:
      break;
  }
  return goroutine_state::dead;
}

void collect_frames(const promise_base* p, stack_trace& frames) {
  for (; p; p = p->caller) {
    frames.push_back({p->function, p->await_site.load(std::memory_order_relaxed), p->pc});
  }
}

std::uint64_t hash_stack(const stack_trace& frames) {
  std::uint64_t h = 1469598103934665603ULL;
  auto mix = [&](std::uint64_t v) { h = (h ^ v) * 1099511628211ULL; };
  for (const auto& f : frames) {
    mix(reinterpret_cast<std::uintptr_t>(f.pc));
    mix(reinterpret_cast<std::uintptr_t>(f.call_site.file_name()));
    mix(f.call_site.line());
  }
  return h;
}

// Identical stacks share one entry, so 100k goroutines parked at one line cost one stack.
class stack_interner {
 public:
  explicit stack_interner(snapshot& s) : snap_(s) {}

  // The stack of the frames from `innermost` outwards, keyed by the hash push_frame keeps: a
  // stack seen before in this snapshot costs one lookup, whatever its depth; only a new key
  // walks the frames (and interns them by content, so equal stacks still share an entry).
  // The caller holds the goroutine's lock.
  std::uint32_t intern_stack_of(const goroutine* g, const promise_base* innermost) {
    // An exiting goroutine (innermost null, shown at its root) has popped every frame: its
    // outer hash is that of no frames, 0.
    const std::uint64_t key =
        g->outer_hash ^
        frame_hash(g->depth, innermost->pc, innermost->await_site.load(std::memory_order_relaxed));
    auto [it, fresh] = by_key_.try_emplace(key, 0);
    if (!fresh) return it->second;
    frames_.clear();
    collect_frames(innermost, frames_);
    it->second = intern(frames_);
    return it->second;
  }

  std::uint32_t intern(const stack_trace& frames) {
    auto h = hash_stack(frames);
    auto [it, fresh] = index_.try_emplace(h, static_cast<std::uint32_t>(snap_.stacks.size()));
    if (!fresh && snap_.stacks[it->second] == frames) return it->second;
    // A new stack, or (rarely) a hash collision, which keeps its own unshared entry.
    snap_.stacks.push_back(frames);
    return static_cast<std::uint32_t>(snap_.stacks.size() - 1);
  }

 private:
  snapshot& snap_;
  std::unordered_map<std::uint64_t, std::uint32_t> index_;   // content hash -> stack
  std::unordered_map<std::uint64_t, std::uint32_t> by_key_;  // push_frame's hash -> stack
  stack_trace frames_;
};

}  // namespace

// A snapshot in progress. Goroutines that exit while it runs record themselves into `exited`
// first (as Go's concurrent goroutine profile has the scheduler do), so that none alive at the
// snapshot instant is missed.
struct runtime::capture {
  std::uint64_t epoch = 0;
  std::int64_t instant_ns = 0;
  // Goroutines that recorded themselves before exiting or changing state; guarded by capture_m_.
  std::vector<std::pair<goroutine_record, stack_trace>> exited;
};

goroutine_record runtime::make_record(const goroutine* g, std::int64_t instant_ns) const {
  goroutine_record r;
  r.id = g->id;
  r.parent_id = g->parent_id;
  r.site = g->site;
  r.state = visible_state(g->status.load(std::memory_order_acquire));
  r.created_ns = g->created_ns;
  if (r.state == goroutine_state::waiting) {
    r.reason = g->reason;
    r.wait_since_ns = g->wait_since_ns;
  }
  r.labels = g->labels;
  r.resumes = g->resumes.load(std::memory_order_relaxed);
  r.running_ns = g->running_ns.load(std::memory_order_relaxed);
  if (r.state == goroutine_state::running) {
    // The slice in progress, up to the instant (a run that began after it adds nothing). Under
    // g->lock, which the worker holds to fold a finished run into running_ns.
    const std::int64_t since = g->run_started_ns.load(std::memory_order_relaxed);
    if (since != 0) r.running_ns += std::max<std::int64_t>(0, instant_ns - since);
  }
  r.runnable_ns = g->runnable_ns.load(std::memory_order_relaxed);
  return r;
}

namespace {
// An exiting goroutine has popped its root frame: it is shown at its root's last co_await.
const promise_base* innermost_of(const goroutine* g) {
  return g->innermost ? g->innermost : g->root_promise;
}
}  // namespace

bool runtime::claim_for_capture(goroutine* g) {
  std::lock_guard guard(capture_m_);
  if (!active_ || g->created_epoch >= active_->epoch) return false;
  auto seen = g->profiled_epoch.load(std::memory_order_acquire);
  if (seen >= active_->epoch || !g->profiled_epoch.compare_exchange_strong(seen, active_->epoch)) {
    return false;
  }
  auto& [rec, frames] = active_->exited.emplace_back();
  rec = make_record(g, active_->instant_ns);
  collect_frames(innermost_of(g), frames);
  if (rec.state == goroutine_state::dead) rec.state = goroutine_state::running;
  return true;
}

void runtime::record_exiting(goroutine* g) {
  if (registry_->walking()) claim_for_capture(g);
}

void runtime::record_unreached(goroutine* g) noexcept {
  // Cheap test first: most goroutines have been reached, or were created after the instant.
  if (g->profiled_epoch.load(std::memory_order_acquire) >= registry_->epoch()) return;
  std::lock_guard guard(g->lock);
  try {
    claim_for_capture(g);
  } catch (...) {
    // Out of memory for the record: the walker reads g later instead (at or after the instant).
  }
}

snapshot runtime::take_snapshot() {
  std::lock_guard one_at_a_time(snapshot_m_);
  detail::graph_reader reading_graphs;  // before any goroutine's wait record is looked at
  capture cap;
  snapshot snap;
  {
    std::lock_guard guard(capture_m_);
    cap.epoch = registry_->begin_walk();
    snap.epoch = cap.epoch;
    snap.started_ns = monotonic_ns();
    cap.instant_ns = snap.started_ns;
    active_ = &cap;
  }
  std::vector<goroutine*> all;
  all.reserve(registry_->live() + 64);
  snap.max_hold_ns = registry_->collect(all);
  snap.goroutines.reserve(all.size());

  stack_interner stacks(snap);
  detail::wait_graph_capture graph;
  for (goroutine* g : all) {
    if (g->created_epoch >= cap.epoch) continue;  // created after the instant
    goroutine_record r;
    {
      // Claim it under its lock: an exit cannot then slip between the claim and the read, and
      // a goroutine that recorded itself on the way out (or died before the instant) is skipped.
      std::lock_guard guard(g->lock);
      if (g->status.load(std::memory_order_acquire) == run_status::dead) continue;
      auto seen = g->profiled_epoch.load(std::memory_order_acquire);
      if (seen >= cap.epoch || !g->profiled_epoch.compare_exchange_strong(seen, cap.epoch)) {
        continue;
      }
      r = make_record(g, cap.instant_ns);
      r.stack = stacks.intern_stack_of(g, innermost_of(g));
      if (r.state == goroutine_state::waiting) graph.note_waiting(g, r, snap.goroutines.size());
    }
    snap.goroutines.push_back(std::move(r));
  }

  graph.finish(snap);  // before end_walk: it looks at the goroutines again
  {
    std::lock_guard guard(capture_m_);
    active_ = nullptr;
  }
  for (auto& [rec, exited_frames] : cap.exited) {
    rec.stack = stacks.intern(exited_frames);
    snap.goroutines.push_back(std::move(rec));
  }
  registry_->end_walk();
  snap.finished_ns = monotonic_ns();
  return snap;
}

}  // namespace gprofid
