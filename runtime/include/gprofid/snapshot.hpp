// A consistent snapshot of every goroutine of a runtime: the raw material of
// GoroutineProfileWithID. Records carry source locations and code addresses; turning them into
// strings and files is the sampler's job.
#pragma once

#include <cstdint>
#include <source_location>
#include <vector>

#include "gprofid/detail/goroutine.hpp"
#include "gprofid/labels.hpp"
#include "gprofid/wait_object.hpp"
#include "gprofid/wait_reason.hpp"

namespace gprofid {

struct stack_frame {
  std::source_location function;   // the coroutine function of this frame
  std::source_location call_site;  // the co_await it is suspended at (or last passed)
  const void* pc = nullptr;        // the frame's code address (promise_base::pc)

  friend bool operator==(const stack_frame& a, const stack_frame& b) noexcept {
    return a.pc == b.pc && a.call_site.line() == b.call_site.line() &&
           a.call_site.file_name() == b.call_site.file_name() &&
           a.function.function_name() == b.function.function_name();
  }
};

using stack_trace = std::vector<stack_frame>;  // innermost frame first

// goroutine_record::stack of a goroutine whose frames did not move since its cursor's previous
// whole stack of it (change_cursor::set_keep_frames): it has that stack, with the innermost
// frame's call site replaced by innermost_at (a frame's co_await line moves without a push or
// pop). No snapshot::stacks entry.
inline constexpr std::uint32_t frames_kept = UINT32_MAX;

struct goroutine_record {
  std::uint64_t id = 0;
  std::uint64_t parent_id = 0;
  spawn_site site{};
  goroutine_state state = goroutine_state::runnable;
  wait_reason reason = wait_reason::none;
  std::int64_t created_ns = 0;
  std::int64_t wait_since_ns = 0;  // 0 unless waiting
  label_ptr labels{};
  std::uint64_t resumes = 0;
  std::int64_t running_ns = 0;
  std::int64_t runnable_ns = 0;
  std::uint32_t stack = 0;  // index into snapshot::stacks, or frames_kept
  // With stack == frames_kept: the innermost frame's call site now. Else empty (the stack's
  // first frame has it).
  std::source_location innermost_at{};
  // The snapshot::objects entry it waits on (its id), 0 when not waiting on one or when the
  // goroutine ran while the snapshot was taken (then its wait is not part of the graph).
  std::uint64_t blocked_on = 0;
};

struct snapshot {
  std::uint64_t epoch = 0;
  std::int64_t started_ns = 0;  // the snapshot instant
  std::int64_t finished_ns = 0;
  std::int64_t max_hold_ns = 0;              // longest time any spawn/exit was held up by the walk
  std::vector<goroutine_record> goroutines;  // in no particular order
  std::vector<stack_trace> stacks;           // interned: identical stacks share an index
  // The wait-for graph: every object a waiting goroutine is parked on, read while it was
  // parked, sorted by id (docs/wait-graph.md).
  std::vector<wait_object> objects;
  // Where the holder of each locked mutex of `objects` took it (its lock(), scoped_lock() or
  // try_lock() line), sorted by object id; a mutex held outside any goroutine has none.
  struct lock_site {
    std::uint64_t object = 0;
    std::source_location at;
  };
  std::vector<lock_site> lock_sites;

  const stack_trace& stack_of(const goroutine_record& r) const { return stacks.at(r.stack); }
  // The record of goroutine `id`, or null if it was not alive at the snapshot instant.
  const goroutine_record* find(std::uint64_t id) const noexcept {
    for (const auto& r : goroutines) {
      if (r.id == id) return &r;
    }
    return nullptr;
  }
};

// What changed since a change_cursor's previous snapshot (runtime::take_snapshot_delta;
// docs/snapshot.md, "Incremental snapshots"), exact at its instant as a full snapshot is.
struct snapshot_delta {
  // Full: `changes` is a complete snapshot (wait-for graph included) that replaces whatever the
  // cursor's owner held: the cursor's first, a refresh it asked for, or every one while another
  // cursor follows this runtime's changes.
  bool full = false;
  // The goroutines created or changed since the previous instant, as they were at this one
  // (no particular order; changes.objects is empty and blocked_on 0 unless full or `graph`). A
  // goroutine listed may also be unchanged (it changed after the instant, or was running at the
  // previous one: its running time moves). Goroutines absent are as they were at the previous
  // instant.
  snapshot changes;
  // Goroutines alive at the previous instant and not at this one. May name a goroutine the owner
  // never saw (one that ended before a refresh): ignore unknown ids.
  std::vector<std::uint64_t> exited;
  // A delta (not full) with the wait-for graph at its instant, as the cursor's graph limit allows
  // (change_cursor::set_graph_limit): changes.objects and lock_sites are then the whole graph,
  // every record of changes has its blocked_on, and `waits` has the blocked_on of every other
  // goroutine that was parked on a graph object at the previous instant (0: its wait is not in
  // this graph, as a full snapshot drops a wait that changed during the walk). Any other goroutine
  // absent from changes still has blocked_on 0. Without `graph` the owner keeps its last graph.
  bool graph = false;
  struct wait_edge {
    std::uint64_t id = 0;
    std::uint64_t blocked_on = 0;
  };
  std::vector<wait_edge> waits;  // sorted by id
};

}  // namespace gprofid
