// The control block of one goroutine: its identity (never reused), where it came from, its
// scheduling state and its logical stack. Owned by the registry; a snapshot reads it under `lock`.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <memory>
#include <mutex>
#include <source_location>
#include <string>

#include "gprofid/detail/block_pool.hpp"
#include "gprofid/detail/config.hpp"
#include "gprofid/detail/frame.hpp"
#include "gprofid/detail/spinlock.hpp"
#include "gprofid/labels.hpp"
#include "gprofid/wait_object.hpp"
#include "gprofid/wait_reason.hpp"

namespace gprofid {

// Where a goroutine was created: the spawning call's source location (Go's gopc) and its
// return address, which exporters can symbolise.
struct spawn_site {
  std::source_location location;
  const void* pc = nullptr;
};

// Internal scheduling status. `woken_while_parking` covers the window in which a primitive has
// published the goroutine as a waiter but its worker has not yet returned from resume().
enum class run_status : std::uint8_t { runnable, running, waiting, woken_while_parking, dead };

class scheduler;

// Bits of goroutine::flags. Written only under the goroutine's lock, as a load and a store (no
// locked read-modify-write: the lock orders the writers); read without it only by the thread
// that writes that bit.
namespace goroutine_flag {
// Set by push_frame and pop_frame: its frames moved since the tracking cursor last had its whole
// stack. Cleared by the tracking read that hands out a whole stack; while clear, a delta of a
// cursor with set_keep_frames(true) hands out frames_kept instead (docs/snapshot.md, "Kept
// frames"). Set at creation: a new goroutine's first read hands out its whole stack.
inline constexpr std::uint8_t frames_moved = 1;
// An exception escaped one of its frames: the registry keeps the stack it escaped from
// (registry::note_panic), out of line because it is rare. Written by its worker.
inline constexpr std::uint8_t panicked = 2;
// Set by push_frame when the frame it pushes under (no longer innermost) is not the root and
// may hold a channel handle (promise_base::may_hold_handles): a snapshot then looks for handles
// in every frame of the goroutine, else only in its innermost frame (and its root if
// root_holds_handles is set). Never cleared.
inline constexpr std::uint8_t inner_frames_hold_handles = 4;
// Its root frame may hold a channel handle: set by push_frame when the root it pushes under
// is marked (the root stops being innermost only there). Saves a snapshot reading the root
// frame of every parked goroutine to find out. Never cleared.
inline constexpr std::uint8_t root_holds_handles = 8;
}  // namespace goroutine_flag

// The object a parked goroutine waits on (a chan_core, mutex, wait_group, event or a select's
// select_frame), as park() is told it.
struct blocked_on {
  wait_object_kind kind = wait_object_kind::none;
  const void* object = nullptr;
};

class goroutine {
 public:
  goroutine(std::uint64_t id, std::uint64_t parent_id, spawn_site site, label_ptr labels,
            std::coroutine_handle<> root, promise_base* root_promise) noexcept;
  ~goroutine();
  goroutine(const goroutine&) = delete;
  goroutine& operator=(const goroutine&) = delete;
  // From the block pool: no allocator header per control block.
  static void* operator new(std::size_t size) { return detail::pool_allocate(size); }
  static void operator delete(void* p, std::size_t size) noexcept { detail::pool_free(p, size); }
  // Sets or clears goroutine_flag bits; `lock` held.
  void set_flags_locked(std::uint8_t bits) noexcept {
    flags.store(flags.load(std::memory_order_relaxed) | bits, std::memory_order_relaxed);
  }
  void clear_flags_locked(std::uint8_t bits) noexcept {
    flags.store(static_cast<std::uint8_t>(flags.load(std::memory_order_relaxed) & ~bits),
                std::memory_order_relaxed);
  }

  // Identity: immutable after construction.
  const std::uint64_t id;
  const std::uint64_t parent_id;
  const spawn_site site;
  const std::int64_t created_ns;
  std::uint64_t created_epoch = 0;  // snapshot epoch current at creation (set by the registry)

  // Everything below `lock` is written by the goroutine's worker and read by snapshots. The
  // small fields sit together, without padding between them (docs/performance.md, memory per
  // parked goroutine): the 4-byte lock and four 1-byte fields, then 8 bytes after wait_since_ns
  // (none left: a new field of any size takes a word).
  mutable spinlock lock;
  wait_reason reason = wait_reason::none;
  std::atomic<run_status> status{run_status::runnable};
  // Registry link state: written under the registry shard's mutex, read by walks without it.
  std::atomic<bool> unlinked{false};
  // With blocked_object, below.
  wait_object_kind blocked_kind = wait_object_kind::none;
  promise_base* innermost = nullptr;
  // XOR of frame_hash() of every frame outside `innermost`, each with the co_await it waits at
  // (fixed while the frames inside it run): with the innermost frame, a snapshot's key for the
  // whole stack.
  std::uint64_t outer_hash = 0;
  std::int64_t wait_since_ns = 0;
  std::uint16_t shard = 0;  // the registry shard it is linked in
  std::uint16_t depth = 0;  // frames outside `innermost` (wraps past 65535: only the key suffers)
  // Change tracking for incremental snapshots (registry.hpp, change_bit; docs/snapshot.md
  // "Incremental snapshots"). With `flags` and `sched_index`, in the padding before
  // blocked_object.
  std::atomic<std::uint8_t> change_bits{0};
  // goroutine_flag bits, under `lock`.
  std::atomic<std::uint8_t> flags{goroutine_flag::frames_moved};
  // The scheduler that runs it, as an index (scheduler.hpp, scheduler_of): in the padding here
  // where a pointer would take a word.
  std::uint16_t sched_index = 0;
  // What it is parked on, for the snapshot's wait-for graph (its kind is blocked_kind): published
  // with the wait reason (under `lock`) and cleared before it resumes. While a snapshot holds
  // `lock` and sees it set, the object stays alive: the clear waits for that lock whenever a
  // snapshot is reading graphs (see scheduler::execute and docs/wait-graph.md).
  std::atomic<const void*> blocked_object{nullptr};
  label_ptr labels;

  std::atomic<std::uint64_t> resumes{0};
  std::atomic<std::int64_t> running_ns{0};
  std::atomic<std::int64_t> runnable_ns{0};
  // One stamp for two times never needed at once (one word less per goroutine): while queued,
  // when it became runnable (> 0; written by whoever queues it, read by the worker that starts
  // it); while it runs, minus the instant the run started (< 0), set back to 0 with
  // running_ns's update under `lock`, so a snapshot adds the slice in progress exactly once.
  std::atomic<std::int64_t> stamp_ns{0};

  std::coroutine_handle<> resume_point;  // innermost suspended frame
  std::coroutine_handle<> root;  // owned: destroyed with the goroutine (detail::root_promise)

  // Snapshot bookkeeping: the last epoch in which this goroutine was recorded.
  std::atomic<std::uint64_t> profiled_epoch{0};

  // Registry links, written under the registry shard's mutex (see also shard and unlinked);
  // a walk follows `next` without it (registry::collect).
  goroutine* prev = nullptr;
  std::atomic<goroutine*> next{nullptr};
  // The next goroutine on the list this one is on: a registry shard's changed list while
  // change_bit::listed is set, else the retired list (never both: a listed goroutine that exits
  // is kept by its list, not retired).
  goroutine* list_next = nullptr;
};

// Logical-stack maintenance, called from task awaiters: entering and leaving a frame.
inline void push_frame(goroutine* g, promise_base* p) noexcept {
  if constexpr (!GPROFID_TRACKING) return;
  std::lock_guard guard(g->lock);
  promise_base* c = g->innermost;  // the frame awaiting p: p->caller()
  // The caller waits at this call's co_await (await_transform stored it) until p is popped.
  g->outer_hash ^= frame_hash(g->depth++, c->pc(), c->await_site.load(std::memory_order_relaxed));
  g->innermost = p;
  std::uint8_t handles = 0;
  if (c->may_hold_handles.load(std::memory_order_relaxed)) {
    handles = c->continuation ? goroutine_flag::inner_frames_hold_handles
                              : goroutine_flag::root_holds_handles;
  }
  g->set_flags_locked(goroutine_flag::frames_moved | handles);
}

inline void pop_frame(goroutine* g, promise_base* p) noexcept {
  if constexpr (!GPROFID_TRACKING) return;
  std::lock_guard guard(g->lock);
  promise_base* c = p->caller();  // null when the root frame finishes
  if (c) {
    g->outer_hash ^= frame_hash(--g->depth, c->pc(), c->await_site.load(std::memory_order_relaxed));
  }
  g->innermost = c;
  g->set_flags_locked(goroutine_flag::frames_moved);
}

}  // namespace gprofid
