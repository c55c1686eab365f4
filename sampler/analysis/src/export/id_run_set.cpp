#include "gprofid/analysis/id_run_set.hpp"

#include <algorithm>
#include <iterator>

namespace gprofid {

std::size_t id_run_set::chunk_of(std::uint64_t id) const noexcept {
  auto it = std::upper_bound(chunks_.begin(), chunks_.end(), id,
                             [](std::uint64_t v, const chunk& c) { return v < c.front().lo; });
  return it == chunks_.begin() ? 0 : static_cast<std::size_t>(std::prev(it) - chunks_.begin());
}

bool id_run_set::contains(std::uint64_t id) const noexcept {
  if (chunks_.empty()) return false;
  const chunk& c = chunks_[chunk_of(id)];
  auto it = std::upper_bound(c.begin(), c.end(), id,
                             [](std::uint64_t v, const run& r) { return v < r.lo; });
  return it != c.begin() && std::prev(it)->hi >= id;
}

void id_run_set::insert(std::uint64_t id) {
  if (chunks_.empty()) {
    chunks_.push_back(chunk{run{id, id}});
    runs_ = 1;
    return;
  }
  // The usual case: the next id after the last run, or one above it.
  if (run& last = chunks_.back().back(); id > last.hi && id == last.hi + 1) {
    last.hi = id;
    return;
  }
  const std::size_t ci = chunk_of(id);
  chunk& c = chunks_[ci];
  auto it = std::upper_bound(c.begin(), c.end(), id,
                             [](std::uint64_t v, const run& r) { return v < r.lo; });
  // `it` is the first run starting above id; the one before it (if any) starts at or below.
  if (it != c.begin()) {
    run& before = *std::prev(it);
    if (before.hi >= id) return;
    if (before.hi + 1 == id) {
      before.hi = id;
      if (it != c.end() && it->lo == id + 1) {
        before.hi = it->hi;
        c.erase(it);
        --runs_;
      }
      return;
    }
  }
  if (it != c.end() && it->lo == id + 1) {
    it->lo = id;  // still above the previous chunk's runs: id is in none of them
    return;
  }
  c.insert(it, run{id, id});
  ++runs_;
  if (c.size() >= 2 * chunk_runs) {
    chunk upper(c.begin() + static_cast<std::ptrdiff_t>(chunk_runs), c.end());
    c.resize(chunk_runs);
    c.shrink_to_fit();
    chunks_.insert(chunks_.begin() + static_cast<std::ptrdiff_t>(ci) + 1, std::move(upper));
  }
}

}  // namespace gprofid
