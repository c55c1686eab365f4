// Every live goroutine, in shards so that spawn and exit on different workers do not contend.
// Also the allocator of goroutine control blocks: while a snapshot is walking, exited goroutines
// are retired instead of freed, so the walker never touches freed memory.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "gprofid/detail/goroutine.hpp"

namespace gprofid {

// Bits of goroutine::change_bits, the change tracking of incremental snapshots
// (runtime::take_snapshot_delta; docs/snapshot.md "Incremental snapshots").
namespace change_bit {
// On a shard's changed list (linked through list_next): the next delta looks at it. Set by
// whoever puts it there (note_changed, create, the delta's relist), cleared by the delta that
// takes it off, before that delta reads it.
inline constexpr std::uint8_t listed = 1;
// Destroyed: set by destroy(). A goroutine destroyed while listed is not freed there: its list
// owns it, and whoever takes it off frees it.
inline constexpr std::uint8_t dead = 2;
// No cursor follows changes: note_changed does nothing. Set on every goroutine while tracking
// is off, cleared by the walk that starts tracking.
inline constexpr std::uint8_t quiet = 4;
}  // namespace change_bit

class registry {
 public:
  explicit registry(std::size_t shards);
  ~registry();
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  std::uint64_t next_id() noexcept { return next_id_.fetch_add(1, std::memory_order_relaxed); }

  goroutine* create(std::uint64_t id, std::uint64_t parent_id, spawn_site site, label_ptr labels,
                    std::coroutine_handle<> root, promise_base* root_promise, std::size_t shard);
  // Unlinks and frees (or retires, while a walk is active) a goroutine that has finished.
  void destroy(goroutine* g) noexcept;
  // Frees every goroutine still registered; only once no worker runs any of them.
  void destroy_all() noexcept;

  std::size_t live() const noexcept { return live_.load(std::memory_order_relaxed); }

  // Walking for snapshots. begin_walk() returns the new epoch; between begin and end, control
  // blocks stay valid even if their goroutine exits. collect() gathers pointers holding each
  // shard's lock only to read the list's head, so a walk never holds up a spawn or exit for
  // longer than that, preempted or not.
  std::uint64_t begin_walk() noexcept;
  // Returns the longest time it held any shard's lock.
  std::int64_t collect(std::vector<goroutine*>& out);
  // Test seam: called by collect() after each goroutine it passes, with no lock held.
  std::function<void()> collect_step_for_test;
  void end_walk() noexcept;
  std::uint64_t epoch() const noexcept { return epoch_.load(std::memory_order_acquire); }
  bool walking() const noexcept { return walkers_.load(std::memory_order_acquire) != 0; }

  // Change tracking. note_changed() is called on the switch path just before g changes state
  // (after scheduler::before_transition), from shard `shard`'s worker or, for the foreign
  // shard, any thread: one load when g is already listed or nobody tracks.
  void note_changed(goroutine* g, std::size_t shard) noexcept {
    const auto b = g->change_bits.load(std::memory_order_relaxed);
    if ((b & (change_bit::listed | change_bit::quiet)) == 0) list_changed(g, shard, b);
  }
  // Puts g back on the foreign shard's list for the next delta; false (and nothing done) if g
  // has been destroyed.
  bool relist(goroutine* g) noexcept;
  // Tracking on (at the start of the full walk that begins a cursor; creates list new
  // goroutines) or off (every goroutine quiet, the lists emptied and what they owned freed).
  // Only from inside a walk (begin_walk .. end_walk), under the runtime's snapshot_m_.
  void start_tracking() noexcept;
  void stop_tracking();
  bool tracking() const noexcept { return tracking_.load(std::memory_order_acquire); }
  // Takes every shard's changed list, chained through list_next (in no particular order).
  goroutine* take_changed() noexcept;
  // Frees a goroutine its list owned (taken off with change_bit::dead set).
  static void free_owned(goroutine* g) noexcept;
  // Foreign shard index: spawns and wake-ups from outside any worker.
  std::size_t foreign_shard() const noexcept { return shards_.size() - 1; }

  // The exception that escaped a goroutine's innermost frame and the stack it escaped from,
  // for its panic report (goroutine_flag::panicked says one is kept). note_panic keeps the first
  // stack of an exception as it unwinds frame by frame; forget_panic when the goroutine ends.
  struct panic_record {
    std::exception_ptr exception;
    std::string stack;
  };
  // False if `exception` is the one kept for g already.
  bool is_new_panic(const goroutine& g, const std::exception_ptr& exception);
  void note_panic(goroutine& g, panic_record r);
  std::string panic_stack(const goroutine& g);
  void forget_panic(goroutine& g) noexcept;

 private:
  struct alignas(64) shard_list {
    // Guards head, the goroutines' prev links and writes of their next links and `unlinked`
    // (a walk reads those two without it: see collect). Taken alone.
    std::mutex m;
    goroutine* head = nullptr;
    // Goroutines changed since the last delta took this list: pushed lock-free by the shard's
    // worker (the foreign shard: by any thread), taken whole by the delta.
    std::atomic<goroutine*> changed{nullptr};
  };
  void free_retired() noexcept;
  void list_changed(goroutine* g, std::size_t shard, std::uint8_t bits) noexcept;
  void push_changed(goroutine* g, std::size_t shard) noexcept;
  // Frees every goroutine the lists own and empties them; the others are left quiet or not.
  void drain_changed(bool quiet) noexcept;

  std::vector<std::unique_ptr<shard_list>> shards_;
  alignas(64) std::atomic<std::uint64_t> next_id_{1};
  alignas(64) std::atomic<std::size_t> live_{0};
  std::atomic<std::uint64_t> epoch_{0};
  std::atomic<int> walkers_{0};
  std::atomic<bool> tracking_{false};  // read by create() under a shard's mutex
  std::mutex retired_m_;
  goroutine* retired_ = nullptr;
  std::mutex panics_m_;                                     // guards panics_; a leaf lock
  std::unordered_map<std::uint64_t, panic_record> panics_;  // by goroutine id
};

}  // namespace gprofid
