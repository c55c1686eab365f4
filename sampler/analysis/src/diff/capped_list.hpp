// The summary's capped lists (the top N of something): candidates gathered as goroutines exit,
// holding about N entries rather than one per goroutine, then ranked and capped at the end.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace gprofid::capped_list {

// A cap of 0 means "all" in summary_options::top.
inline std::size_t limit(std::size_t top) noexcept {
  return top == 0 ? std::numeric_limits<std::size_t>::max() : top;
}

// Adds `item` to `v`, which keeps at least the `k` best by `better` (a strict total order) of
// all it was given: past 2k entries the worst are dropped, so each add is O(1) amortised and
// `v` never holds more than 2k.
template <class T, class Better>
void keep_best(std::vector<T>& v, T item, std::size_t k, Better better) {
  if (k == 0) return;
  v.push_back(std::move(item));
  if (k > std::numeric_limits<std::size_t>::max() / 4 || v.size() <= 2 * k) return;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end(), better);
  v.erase(v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
}

// Ranks `v` (holding at least the best `top` of `total` candidates) and caps it at `top`
// (0: all), saying in `omitted` how many of the `total` were left out.
template <class T, class Better>
void rank(std::vector<T>& v, std::size_t top, std::uint64_t total, std::uint64_t& omitted,
          Better better) {
  std::sort(v.begin(), v.end(), better);
  const std::size_t k = limit(top);
  if (v.size() > k) v.resize(k);
  if (total > k) omitted = total - k;
}

}  // namespace gprofid::capped_list
