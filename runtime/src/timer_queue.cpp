#include "timer_queue.hpp"

#include <utility>

namespace gprofid {
namespace {
constexpr std::size_t arity = 4;
}

timer_id timer_queue::push(std::int64_t deadline_ns, callback cb) {
  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(meta_.size());
    meta_.emplace_back();
    callbacks_.emplace_back();
  }
  meta_[slot].pending = true;
  callbacks_[slot] = std::move(cb);
  heap_.push_back(entry{deadline_ns, next_seq_++, slot});
  sift_up(heap_.size() - 1);
  ++live_;
  return timer_id{slot, meta_[slot].gen};
}

bool timer_queue::cancel(timer_id id) noexcept {
  if (!id.valid() || id.slot >= meta_.size()) return false;
  auto& m = meta_[id.slot];
  if (!m.pending || m.gen != id.gen) return false;
  // The heap entry stays behind as a tombstone until it reaches the top or a compaction.
  m.pending = false;
  ++m.gen;
  callbacks_[id.slot] = nullptr;
  --live_;
  // Tombstones past half the heap would make every operation pay for dead timers.
  if (heap_.size() > 64 && heap_.size() - live_ > heap_.size() / 2) compact();
  return true;
}

std::optional<std::int64_t> timer_queue::next_deadline() noexcept {
  prune_top();
  if (heap_.empty()) return std::nullopt;
  return heap_.front().deadline;
}

std::optional<timer_queue::callback> timer_queue::pop_due(std::int64_t now_ns) {
  prune_top();
  if (heap_.empty() || heap_.front().deadline > now_ns) return std::nullopt;
  const std::uint32_t slot = heap_.front().slot;
  pop_top();
  auto& m = meta_[slot];
  m.pending = false;
  ++m.gen;
  --live_;
  free_slots_.push_back(slot);
  return std::optional<callback>(std::exchange(callbacks_[slot], nullptr));
}

void timer_queue::clear() noexcept {
  heap_.clear();
  meta_.clear();
  callbacks_.clear();
  free_slots_.clear();
  live_ = 0;
}

void timer_queue::sift_up(std::size_t i) noexcept {
  entry e = heap_[i];
  while (i > 0) {
    std::size_t parent = (i - 1) / arity;
    if (!before(e, heap_[parent])) break;
    heap_[i] = heap_[parent];
    i = parent;
  }
  heap_[i] = e;
}

void timer_queue::sift_down(std::size_t i) noexcept {
  const std::size_t n = heap_.size();
  entry e = heap_[i];
  for (;;) {
    const std::size_t first = i * arity + 1;
    if (first >= n) break;
    std::size_t best = first;
    if (first + arity <= n) {
      // Full node: a branch-free minimum, as random deadlines make branches unpredictable.
      for (std::size_t c = first + 1; c < first + arity; ++c) {
        best = before(heap_[c], heap_[best]) ? c : best;
      }
    } else {
      for (std::size_t c = first + 1; c < n; ++c) {
        if (before(heap_[c], heap_[best])) best = c;
      }
    }
    if (!before(heap_[best], e)) break;
    heap_[i] = heap_[best];
    i = best;
  }
  heap_[i] = e;
}

void timer_queue::pop_top() noexcept {
  heap_.front() = heap_.back();
  heap_.pop_back();
  if (!heap_.empty()) sift_down(0);
}

void timer_queue::prune_top() noexcept {
  while (!heap_.empty() && stale(heap_.front())) {
    free_slots_.push_back(heap_.front().slot);
    pop_top();
  }
}

void timer_queue::compact() noexcept {
  std::size_t kept = 0;
  for (const entry& e : heap_) {
    if (stale(e)) {
      free_slots_.push_back(e.slot);
    } else {
      heap_[kept++] = e;
    }
  }
  heap_.resize(kept);
  if (kept < 2) return;
  for (std::size_t i = (kept - 2) / arity + 1; i-- > 0;) sift_down(i);
}

}  // namespace gprofid
