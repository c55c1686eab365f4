#include <algorithm>

#include "asymmetric_fence.hpp"
#include "gprofid/clock.hpp"
#include "gprofid/runtime.hpp"
#include "registry.hpp"
#include "snapshot_walk.hpp"
#include "wait_graph.hpp"

namespace gprofid {
using detail::collect_frames;
using detail::innermost_of;
using detail::stack_interner;
using detail::visible_state;

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
    const std::int64_t stamp = g->stamp_ns.load(std::memory_order_relaxed);
    if (stamp < 0) r.running_ns += std::max<std::int64_t>(0, instant_ns + stamp);
  }
  r.runnable_ns = g->runnable_ns.load(std::memory_order_relaxed);
  return r;
}

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

void runtime::begin_capture(capture& cap, snapshot& snap) {
  std::lock_guard guard(capture_m_);
  cap.epoch = registry_->begin_walk();
  snap.epoch = cap.epoch;
  snap.started_ns = monotonic_ns();
  cap.instant_ns = snap.started_ns;
  active_ = &cap;
}

void runtime::finish_capture(capture& cap, stack_interner& stacks, snapshot& snap) {
  {
    std::lock_guard guard(capture_m_);
    active_ = nullptr;
  }
  // No goroutine appends to cap.exited any more: add them behind those the walk read.
  for (auto& [rec, exited_frames] : cap.exited) {
    rec.stack = stacks.intern(exited_frames);
    snap.goroutines.push_back(std::move(rec));
  }
  registry_->end_walk();
  snap.finished_ns = monotonic_ns();
}

snapshot runtime::take_snapshot() {
  std::lock_guard one_at_a_time(snapshot_m_);
  return walk_all(nullptr);
}

// snapshot_m_ held. With a cursor (the full snapshot that starts or refreshes it), every
// goroutine it looks at joins change tracking, and what will have changed by the cursor's next
// delta is put on a changed list: see docs/snapshot.md, "Incremental snapshots".
snapshot runtime::walk_all(change_cursor* cursor) {
  detail::graph_reader reading_graphs;  // before any goroutine's wait record is looked at
  capture cap;
  snapshot snap;
  if (cursor) registry_->start_tracking();  // before the instant: see registry::create
  begin_capture(cap, snap);
  std::vector<goroutine*> all;
  all.reserve(registry_->live() + 64);
  snap.max_hold_ns = registry_->collect(all);
  snap.goroutines.reserve(all.size());

  if (cursor) {
    // Every goroutine out of quiet before any is read, then the heavy fence (as a delta does
    // with its lists, see walk_changed): a change the read below misses is listed.
    for (goroutine* g : all) {
      if (g->created_epoch < cap.epoch) {
        g->change_bits.fetch_and(static_cast<std::uint8_t>(~change_bit::quiet),
                                 std::memory_order_acq_rel);
      }
    }
    detail::heavy_fence();
  }

  stack_interner stacks(snap);
  detail::wait_graph_capture graph;
  graph.reserve(all.size());
  for (goroutine* g : all) {
    if (g->created_epoch >= cap.epoch) continue;  // created after the instant (and listed)
    goroutine_record r;
    bool follow = false;  // changes after the instant (or a run in progress): list it
    {
      // Claim it under its lock: an exit cannot then slip between the claim and the read, and
      // a goroutine that recorded itself on the way out (or died before the instant) is skipped.
      std::lock_guard guard(g->lock);
      const bool dead = g->status.load(std::memory_order_acquire) == run_status::dead;
      auto seen = g->profiled_epoch.load(std::memory_order_acquire);
      if (dead || seen >= cap.epoch ||
          !g->profiled_epoch.compare_exchange_strong(seen, cap.epoch)) {
        // Recorded itself (it changed after the instant), or died before the instant.
        if (cursor && g->profiled_epoch.load(std::memory_order_acquire) == cap.epoch) {
          follow_after(*cursor, g, cap.epoch);
        }
        continue;
      }
      r = make_record(g, cap.instant_ns);
      r.stack = stacks.intern_stack_of(g, innermost_of(g));
      // The cursor has its whole stack now. One that recorded itself instead keeps the flag:
      // at worst one more whole stack.
      if (cursor) g->clear_flags_locked(goroutine_flag::frames_moved);
      if (r.state == goroutine_state::waiting) graph.note_waiting(g, r, snap.goroutines.size());
      follow = cursor && r.state == goroutine_state::running;
    }
    if (follow) follow_after(*cursor, g, cap.epoch);
    snap.goroutines.push_back(std::move(r));
  }

  graph.finish(snap);  // before end_walk: it looks at the goroutines again
  if (cursor) keep_parked(*cursor, graph.parked_goroutines());
  finish_capture(cap, stacks, snap);
  return snap;
}

void runtime::follow_after(change_cursor& c, goroutine* g, std::uint64_t epoch) {
  // g is in this snapshot and may change (or have changed) after its instant. Listed, the next
  // delta reads it again; already destroyed (a walk keeps the block), it exited after the
  // instant, which the next delta reports.
  if (!registry_->relist(g) && g->created_epoch < epoch) c.pending_exits_.push_back(g->id);
}

}  // namespace gprofid
