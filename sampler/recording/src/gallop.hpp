// Lower bound for lookups made in increasing key order (a delta's ids are sorted): search
// forward from the previous hit with doubling steps, then binary within the last step. k sorted
// lookups into n entries cost O(k log(n/k)) comparisons instead of O(k log n), and visit the
// entries in memory order; a delta that names most goroutines becomes a merge.
#pragma once

#include <algorithm>
#include <cstddef>
#include <iterator>

namespace gprofid::detail {

// The first position in [from, end) whose key is not below `key`, as std::lower_bound with
// `less(element, key)`, for a range sorted by key.
template <class It, class Key, class Less>
It gallop_lower_bound(It from, It end, const Key& key, Less less) {
  std::size_t step = 1;
  It lo = from;
  while (true) {
    const auto left = static_cast<std::size_t>(std::distance(lo, end));
    if (left <= step) return std::lower_bound(lo, end, key, less);
    It probe = lo + static_cast<std::ptrdiff_t>(step);
    if (!less(*probe, key)) return std::lower_bound(lo, probe + 1, key, less);
    lo = probe + 1;
    step *= 2;
  }
}

}  // namespace gprofid::detail
