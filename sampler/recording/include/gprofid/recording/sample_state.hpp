// The current sample of a recording kept up to date from deltas, in work proportional to the
// changes (a goroutine that did not change is not touched): what the periodic sampler keeps
// between incremental snapshots when it writes v1, which has only full samples (v2's encoder
// keeps its own copy and makes its keyframes from it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "gprofid/recording/sample.hpp"

namespace gprofid {

class sample_state {
 public:
  // The state becomes `s` (goroutines sorted by id).
  void reset(const sample& s);
  // Applies `d` (see sample_delta). Ids in d.exited the state does not hold are dropped from
  // it, so that what is written never names a goroutine the recording does not have; an id
  // both exited and changed is a logic_error.
  void apply(sample_delta& d);
  // The current sample: every goroutine, sorted by id, waits as of the last sample's time, the
  // wait-for graph of the last reset() or delta with one.
  void materialise(sample& out) const;
  std::size_t size() const noexcept { return entries_.size() - gone_; }
  std::int64_t time_ns() const noexcept { return time_ns_; }

 private:
  struct entry {
    goroutine_sample g;
    std::int64_t wait_origin = 0;  // waiting: time_ns - wait_ns at any sample since
    bool gone = false;             // exited; removed at the next compaction
  };
  // The entry of `id`, for ids looked up in increasing order: from is where the previous lookup
  // ended.
  entry* find_from(std::uint64_t id, std::size_t& from) noexcept;
  // g into the state; `at` is its entry, if it has one.
  void put(const goroutine_sample& g, entry* at);
  void compact();

  std::vector<entry> entries_;  // sorted by id
  std::vector<entry> inserts_;  // created with an id below the last one: merged in by apply
  std::size_t gone_ = 0;
  std::int64_t time_ns_ = 0;
  sample header_;  // seq, times and objects of the last sample
};

}  // namespace gprofid
