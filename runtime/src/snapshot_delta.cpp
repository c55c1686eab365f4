// Incremental snapshots: what changed since a cursor's previous snapshot, read from the
// registry's changed lists instead of every goroutine (docs/snapshot.md, "Incremental
// snapshots", has the protocol and why it is exact at the instant).
#include <algorithm>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "asymmetric_fence.hpp"
#include "gprofid/runtime.hpp"
#include "registry.hpp"
#include "snapshot_walk.hpp"
#include "wait_graph.hpp"

namespace gprofid {
using detail::innermost_of;
using detail::stack_interner;

change_cursor::~change_cursor() {
  release();
}

void change_cursor::release() noexcept {
  if (rt_) std::exchange(rt_, nullptr)->release(*this);
  epoch_ = 0;
  pending_exits_.clear();
  parked_.clear();
  parked_known_ = false;
}

void runtime::keep_parked(change_cursor& c, std::vector<goroutine*> parked) {
  c.parked_known_ = c.graph_limit_ > 0 && parked.size() <= c.graph_limit_;
  if (c.parked_known_) {
    c.parked_ = std::move(parked);
  } else {
    c.parked_.clear();  // past the limit: no graph until a full snapshot finds it small again
  }
}

void runtime::release(change_cursor& c) noexcept {
  std::lock_guard one_at_a_time(snapshot_m_);
  if (tracker_ != &c) return;
  tracker_ = nullptr;
  // Inside a walk, so that no goroutine stop_tracking() touches is freed meanwhile.
  registry_->begin_walk();
  registry_->stop_tracking();
  registry_->end_walk();
}

snapshot_delta runtime::take_snapshot_delta(change_cursor& cursor, bool refresh) {
  std::lock_guard one_at_a_time(snapshot_m_);
  if (cursor.rt_ && cursor.rt_ != this) {
    throw std::logic_error("gprofid::change_cursor used with a second runtime");
  }
  cursor.rt_ = this;
  snapshot_delta d;
  if (tracker_ && tracker_ != &cursor) {  // another cursor follows the changes
    d.full = true;
    d.changes = walk_all(nullptr);
    return d;
  }
  if (!tracker_ || refresh) {
    tracker_ = &cursor;
    cursor.pending_exits_.clear();  // the full snapshot replaces the owner's state
    d.full = true;
    d.changes = walk_all(&cursor);
    cursor.epoch_ = d.changes.epoch;
    return d;
  }
  return walk_changed(cursor);
}

// Under g's lock, which push_frame and pop_frame hold to set frames_moved: the flag read here
// says exactly whether the frames moved since the cursor last had them all.
// Inlined: a call per record cost 8 instructions of a copied stack's ~60 (callgrind).
[[gnu::always_inline]] inline void runtime::record_stack(const change_cursor& c, goroutine* g,
                                                         stack_interner& stacks,
                                                         goroutine_record& r) {
  const promise_base* innermost = innermost_of(g);
  if (c.keep_frames_) {
    if ((g->flags.load(std::memory_order_relaxed) & goroutine_flag::frames_moved) == 0) {
      r.stack = frames_kept;
      r.innermost_at = innermost->await_site.load(std::memory_order_relaxed);
      return;
    }
    g->clear_flags_locked(goroutine_flag::frames_moved);
  }
  r.stack = stacks.intern_stack_of(g, innermost);
}

// snapshot_m_ held, change tracking on for `c`.
snapshot_delta runtime::walk_changed(change_cursor& c) {
  snapshot_delta d;
  snapshot& snap = d.changes;
  capture cap;
  begin_capture(cap, snap);
  // They ended after the previous instant; before this one, since the walk that noted them ended.
  d.exited.swap(c.pending_exits_);
  const std::uint64_t previous = c.epoch_;
  // An ended goroutine: gone at this instant, or alive at it (it recorded itself on the way out,
  // so this delta lists it) and gone at the next. Never seen by the owner: nothing to say.
  auto ended = [&](const goroutine* g) {
    if (g->created_epoch < cap.epoch &&
        g->profiled_epoch.load(std::memory_order_acquire) == cap.epoch) {
      c.pending_exits_.push_back(g->id);
    } else if (g->created_epoch < previous) {
      d.exited.push_back(g->id);
    }
  };

  // First every listed goroutine off its list, then (after the heavy fence) each read: a
  // worker that changes one and then finds it still listed (note_changed after the change and a
  // light fence) has its change seen by the read; one that finds it unlisted lists it again.
  // The chain is ours until `listed` is cleared on its members: walked once to learn who is on
  // it, before any of them is freed below.
  std::vector<goroutine*> chain;
  for (goroutine* g = registry_->take_changed(); g; g = g->list_next) chain.push_back(g);
  // The wait-for graph: the goroutines parked on objects at the previous instant that are not
  // on the chain did not run since (running needs a wake-up, which lists), so they are still
  // parked on the same objects, and alive (docs/snapshot.md, "Incremental snapshots").
  const bool with_graph = c.parked_known_;
  std::vector<goroutine*> unchanged;
  std::optional<detail::graph_reader> reading_graphs;
  if (with_graph) {
    reading_graphs.emplace();  // before any wait record is looked at
    // Not on the chain = not listed: the chain's are until the loop below clears them. One
    // listed since take_changed was woken after the instant and records itself as it was at
    // the instant (in this delta's changes, its wait not in the graph), as the check on
    // profiled_epoch below would find.
    unchanged.reserve(c.parked_.size());
    for (goroutine* g : c.parked_) {
      if ((g->change_bits.load(std::memory_order_acquire) & change_bit::listed) == 0) {
        unchanged.push_back(g);
      }
    }
  }
  std::vector<goroutine*> taken;
  for (goroutine* g : chain) {
    const auto bits = g->change_bits.fetch_and(~change_bit::listed, std::memory_order_acq_rel);
    if (bits & change_bit::dead) {  // destroyed while listed: its list owned it
      ended(g);
      registry::free_owned(g);
    } else if (g->created_epoch >= cap.epoch) {  // created after the instant: the next delta's
      registry_->relist(g);  // if it is destroyed already, the owner never hears of it
    } else {
      taken.push_back(g);  // from here on, an exit retires its block until end_walk
    }
  }
  detail::heavy_fence();

  stack_interner stacks(snap);
  detail::wait_graph_capture graph;
  if (with_graph) graph.reserve(unchanged.size() + taken.size());
  snap.goroutines.reserve(taken.size() + 8);
  for (goroutine* g : taken) {
    goroutine_record r;
    bool follow = false;
    bool recorded = false;
    {
      std::lock_guard guard(g->lock);
      auto seen = g->profiled_epoch.load(std::memory_order_acquire);
      if (g->status.load(std::memory_order_acquire) == run_status::dead) {
        ended(g);  // its block is retired
      } else if (seen >= cap.epoch || !g->profiled_epoch.compare_exchange_strong(seen, cap.epoch)) {
        follow = true;  // recorded itself: it changed after the instant
      } else {
        r = make_record(g, cap.instant_ns);
        record_stack(c, g, stacks, r);
        if (with_graph && r.state == goroutine_state::waiting) {
          graph.note_waiting(g, r, snap.goroutines.size());
        }
        follow = r.state == goroutine_state::running;  // its running time moves on
        recorded = true;
      }
    }
    if (follow) follow_after(c, g, cap.epoch);
    if (recorded) snap.goroutines.push_back(std::move(r));
  }
  for (goroutine* g : unchanged) {
    std::lock_guard guard(g->lock);
    // One that changed after the instant recorded itself (it is in this delta's changes, its
    // wait not in the graph, as in a full snapshot) and is listed for the next delta.
    if (g->profiled_epoch.load(std::memory_order_acquire) < cap.epoch) graph.note_unchanged(g);
  }

  if (with_graph) {
    d.graph = true;
    graph.finish(snap, &d.waits);  // before end_walk: it looks at the goroutines again
    keep_parked(c, graph.parked_goroutines());
  }
  const std::size_t walked = snap.goroutines.size();
  finish_capture(cap, stacks, snap);
  if (with_graph) {
    // Those that recorded themselves (after `walked`) are in changes with blocked_on 0: not in
    // waits as well.
    std::vector<std::uint64_t> in_changes;
    for (std::size_t i = walked; i < snap.goroutines.size(); ++i) {
      in_changes.push_back(snap.goroutines[i].id);
    }
    std::sort(in_changes.begin(), in_changes.end());
    std::erase_if(d.waits, [&](const snapshot_delta::wait_edge& e) {
      return std::binary_search(in_changes.begin(), in_changes.end(), e.id);
    });
  }
  c.epoch_ = cap.epoch;
  return d;
}

}  // namespace gprofid
