// The wait-for graph part of a snapshot: while the walk records a waiting goroutine (its lock
// held), what it is parked on is read; after the walk, every such goroutine is checked again,
// and handles to channels are attributed to the goroutines whose frames hold them. The rules
// and why they are sound are in docs/wait-graph.md.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <source_location>
#include <utility>
#include <vector>

#include "gprofid/detail/goroutine.hpp"
#include "gprofid/snapshot.hpp"

namespace gprofid::detail {

// Snapshots reading wait-for graphs right now, in every runtime. Announced (seq_cst) before a
// snapshot looks at any goroutine's blocked_object; see scheduler::execute for the other side.
inline std::atomic<int> graph_readers{0};

// Announces a snapshot in graph_readers for its lifetime.
struct graph_reader {
  graph_reader() noexcept { graph_readers.fetch_add(1, std::memory_order_seq_cst); }
  ~graph_reader() { graph_readers.fetch_sub(1, std::memory_order_seq_cst); }
  graph_reader(const graph_reader&) = delete;
  graph_reader& operator=(const graph_reader&) = delete;
};

// Object address -> index, open addressing: a snapshot looks up every parked goroutine's
// object, and a node-based map cost an allocation per object (docs/performance.md, "The wait-for
// graph at a snapshot").
class address_index {
 public:
  // The index stored for `key`, or `value` stored for it (second: true) if it had none.
  std::pair<std::size_t, bool> try_emplace(const void* key, std::size_t value);

 private:
  struct slot {
    const void* key = nullptr;
    std::size_t value = 0;
  };
  void grow();
  std::vector<slot> slots_;
  std::size_t used_ = 0;
};

class wait_graph_capture {
 public:
  // Room for about n parked goroutines.
  void reserve(std::size_t n);
  // With g->lock held, g waiting and `r` its record (the index-th of snap.goroutines).
  void note_waiting(goroutine* g, goroutine_record& r, std::size_t index);
  // The same for a goroutine without a record in this snapshot (a delta's unchanged one); its
  // wait goes to finish()'s `waits`. False (nothing noted) unless it is parked on an object.
  bool note_unchanged(goroutine* g);
  // After the walk, while control blocks are still kept alive: drops what changed during the
  // walk, attributes handles and moves the objects into `snap`; the blocked_on of goroutines
  // noted by note_unchanged go to `waits` (sorted by id).
  void finish(snapshot& snap, std::vector<snapshot_delta::wait_edge>* waits = nullptr);
  // Every goroutine noted (parked on an object when its wait was read).
  std::vector<goroutine*> parked_goroutines() const;

 private:
  static constexpr std::size_t no_record = SIZE_MAX;
  struct parked {
    goroutine* g;
    std::uint64_t resumes;
    const void* object;
    std::size_t record;  // index into snap.goroutines, or no_record
  };
  std::uint64_t note(goroutine* g, std::uint64_t resumes, std::size_t record);
  struct read {
    std::size_t object;  // index into objects_
    std::size_t reader;  // index into parked_: the goroutine under whose lock it was read
    const void* address;
    std::uint64_t version;          // channel: handle_changes; mutex: owner
    std::size_t handles_begin = 0;  // channel: its handles' addresses, handles_[begin, end)
    std::size_t handles_end = 0;
    std::source_location site;     // mutex: where its owner took it
    std::size_t timer = SIZE_MAX;  // channel: its timer's index into objects_, if any
  };

  std::uint64_t read_object(wait_object_kind kind, const void* object, std::size_t reader);
  bool still_parked(const parked& p) const;

  std::vector<parked> parked_;
  std::vector<read> reads_;
  std::vector<std::uintptr_t> handles_;  // every read channel's handles, in reads_' order
  std::vector<wait_object> objects_;
  address_index index_;  // object address -> objects_
};

}  // namespace gprofid::detail
