// The summary's live goroutines by id: a summary_id_table of ids to slots, the values in chunks
// of a fixed size. A chunk never moves, so a value's address is stable until it is erased, and
// growing to 10^6 goroutines never copies the ones held (a vector would, doubling its peak);
// an erased value's slot is reused by the next one inserted.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "gprofid/analysis/summary_id_table.hpp"

namespace gprofid {

template <class T>
class summary_live_set {
 public:
  summary_live_set() = default;
  // A copy holds its own chunks (top copies a builder to finish it while it goes on).
  summary_live_set(const summary_live_set& o) : ids_(o.ids_), free_(o.free_) {
    chunks_.reserve(o.chunks_.size());
    for (const auto& c : o.chunks_) {
      auto& mine = chunks_.emplace_back(std::make_unique<T[]>(chunk));
      std::copy(c.get(), c.get() + chunk, mine.get());
    }
  }
  summary_live_set& operator=(const summary_live_set& o) {
    if (this != &o) *this = summary_live_set(o);
    return *this;
  }
  summary_live_set(summary_live_set&&) noexcept = default;
  summary_live_set& operator=(summary_live_set&&) noexcept = default;

  T* find(std::uint64_t id) noexcept {
    const std::uint32_t s = ids_.find(id);
    return s == summary_id_table::none ? nullptr : &at(s);
  }
  // Cache hints for a run of lookups in a known order: prefetch_id(id) some lookups ahead, then
  // prefetch_value(id) (which looks the slot up, best once prefetch_id loaded it) fewer ahead.
  void prefetch_id(std::uint64_t id) const noexcept { ids_.prefetch(id); }
  void prefetch_value(std::uint64_t id) const noexcept {
    const std::uint32_t s = ids_.find(id);
    if (s == summary_id_table::none) return;
    const char* v = reinterpret_cast<const char*>(&chunks_[s / chunk][s % chunk]);
    prefetch_line(v);
    if constexpr (sizeof(T) > 64) prefetch_line(v + sizeof(T) - 1);
  }
  // `id` must not be in the set.
  T& insert(std::uint64_t id, T&& value) {
    std::uint32_t s;
    if (!free_.empty()) {
      s = free_.back();
      free_.pop_back();
    } else {
      s = static_cast<std::uint32_t>(chunks_.size() * chunk);
      chunks_.push_back(std::make_unique<T[]>(chunk));
      // The rest of the new chunk, lowest slot last: taken in order.
      for (std::uint32_t k = chunk - 1; k > 0; --k) free_.push_back(s + k);
    }
    ids_.insert(id, s);
    T& v = at(s);
    v = std::move(value);
    return v;
  }
  void erase(std::uint64_t id) {
    const std::uint32_t s = ids_.erase(id);
    if (s == summary_id_table::none) return;
    at(s) = T{};  // frees what it holds now, not when the slot is reused
    free_.push_back(s);
  }
  void clear() noexcept {
    ids_.clear();
    chunks_.clear();
    chunks_.shrink_to_fit();
    free_.clear();
    free_.shrink_to_fit();
  }
  std::size_t size() const noexcept { return ids_.size(); }
  // f(value) for every value, in no particular order; f must not insert or erase.
  template <class F>
  void for_each(F&& f) {
    ids_.for_each([&](std::uint64_t, std::uint32_t s) { f(at(s)); });
  }

 private:
  static constexpr std::uint32_t chunk = 4096;
  T& at(std::uint32_t s) noexcept { return chunks_[s / chunk][s % chunk]; }

  summary_id_table ids_;
  std::vector<std::unique_ptr<T[]>> chunks_;
  std::vector<std::uint32_t> free_;  // slots not in use, the next to use last
};

}  // namespace gprofid
