// A set of goroutine ids kept as runs of consecutive ids: the ids a reader has ever met. A
// runtime's ids come from one counter and every goroutine that lives long enough is sampled, so
// the ids met are a few runs however many goroutines came and went; the set then costs what the
// gaps between the runs cost (16 bytes each), not what the ids do. Any order of insertion is
// accepted: runs are kept sorted in chunks of bounded size, so an id inserted below the others
// moves at most one chunk, never the whole set.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace gprofid {

class id_run_set {
 public:
  bool contains(std::uint64_t id) const noexcept;
  // Adds `id`; nothing when it is in the set already.
  void insert(std::uint64_t id);

  // The runs held (two adjacent runs in different chunks count as two).
  std::size_t runs() const noexcept { return runs_; }
  bool empty() const noexcept { return chunks_.empty(); }

  // Runs per chunk: a chunk that reaches twice this many is split in two.
  static constexpr std::size_t chunk_runs = 256;

 private:
  struct run {
    std::uint64_t lo = 0, hi = 0;  // inclusive
  };
  using chunk = std::vector<run>;
  // The chunk whose runs `id` falls among: the last one whose first run starts at or below it
  // (the first chunk when `id` is below every run).
  std::size_t chunk_of(std::uint64_t id) const noexcept;

  std::vector<chunk> chunks_;  // each non-empty; runs sorted, disjoint, across all chunks
  std::size_t runs_ = 0;
};

}  // namespace gprofid
