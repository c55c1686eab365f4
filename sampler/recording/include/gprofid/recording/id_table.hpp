// Goroutine ids -> 32-bit values (the summary's slots of its live goroutines, the sampler's
// stack of each goroutine): one flat array of (id, value) probed linearly, instead of a
// std::unordered_map node per goroutine. At 10^5-10^6
// live goroutines a lookup was a cache miss for the bucket and another for the node; here it is
// one miss, and nothing is allocated per goroutine. Erasing shifts the entries after it back
// (no tombstones), so a table that churns through millions of ids never needs a rebuild.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "gprofid/recording/prefetch.hpp"

namespace gprofid {

class id_table {
 public:
  static constexpr std::uint32_t none = UINT32_MAX;

  // The slot of `id`, or none.
  std::uint32_t find(std::uint64_t id) const noexcept {
    if (size_ == 0) return none;
    for (std::size_t i = home(id);; i = (i + 1) & mask()) {
      const entry& e = entries_[i];
      if (e.slot == none) return none;
      if (e.id == id) return e.slot;
    }
  }
  // Starts loading where `id` is looked for: a find() soon after then hits the cache. A run of
  // lookups is a cache miss each; ahead of them these overlap.
  void prefetch(std::uint64_t id) const noexcept {
    if (size_ != 0) prefetch_line(&entries_[home(id)]);
  }
  // Adds id -> slot (slot != none); `id` must not be in the table.
  void insert(std::uint64_t id, std::uint32_t slot);
  // id -> slot (slot != none), whether `id` is in the table or not.
  void assign(std::uint64_t id, std::uint32_t slot);
  // Removes `id` and returns its slot (none if it was not there).
  std::uint32_t erase(std::uint64_t id) noexcept;
  void clear() noexcept;

  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return entries_.size(); }

  // f(id, slot) for every entry, in no particular order; f must not change the table.
  template <class F>
  void for_each(F&& f) const {
    for (const entry& e : entries_) {
      if (e.slot != none) f(e.id, e.slot);
    }
  }

 private:
  struct entry {
    std::uint64_t id = 0;
    std::uint32_t slot = none;  // none: empty
  };
  std::size_t mask() const noexcept { return entries_.size() - 1; }
  // Fibonacci hashing: ids are mostly consecutive, and the top bits of id * 2^64/phi spread
  // consecutive ids evenly over the table.
  std::size_t home(std::uint64_t id) const noexcept {
    return static_cast<std::size_t>((id * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  void rehash(std::size_t capacity);

  std::vector<entry> entries_;  // a power of two long, at most 3/4 full
  std::size_t size_ = 0;
  unsigned shift_ = 64;  // 64 - log2(capacity)
};

}  // namespace gprofid
