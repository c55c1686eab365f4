#include "registry.hpp"

#include <algorithm>

#include "gprofid/clock.hpp"

namespace gprofid {

registry::registry(std::size_t shards) {
  if (shards == 0) shards = 1;
  for (std::size_t i = 0; i < shards; ++i) shards_.push_back(std::make_unique<shard_list>());
}

registry::~registry() {
  destroy_all();
  free_retired();
}

goroutine* registry::create(std::uint64_t id, std::uint64_t parent_id, spawn_site site,
                            label_ptr labels, std::coroutine_handle<> root,
                            promise_base* root_promise, std::size_t shard) {
  auto owned =
      std::make_unique<goroutine>(id, parent_id, site, std::move(labels), root, root_promise);
  goroutine* g = owned.release();
  g->shard = static_cast<std::uint16_t>(shard % shards_.size());
  auto& s = *shards_[g->shard];
  {
    std::lock_guard guard(s.m);
    // Read under the shard lock: a walk that bumps the epoch before taking this lock sees the
    // goroutine as pre-existing only if it is linked by then.
    g->created_epoch = epoch_.load(std::memory_order_acquire);
    g->profiled_epoch.store(g->created_epoch, std::memory_order_relaxed);
    g->next = s.head;
    if (s.head) s.head->prev = g;
    s.head = g;
  }
  live_.fetch_add(1, std::memory_order_relaxed);
  return g;
}

void registry::destroy(goroutine* g) noexcept {
  auto& s = *shards_[g->shard];
  {
    std::lock_guard guard(s.m);
    if (g->prev) g->prev->next = g->next;
    if (g->next) g->next->prev = g->prev;
    if (s.head == g) s.head = g->next;
    g->unlinked = true;
    // g->next stays as it was, so that a walker resuming from g still reaches live goroutines.
  }
  live_.fetch_sub(1, std::memory_order_relaxed);
  if (walkers_.load(std::memory_order_seq_cst) != 0) {
    std::lock_guard guard(retired_m_);
    if (walkers_.load(std::memory_order_seq_cst) != 0) {
      g->retired_next = retired_;
      retired_ = g;
      return;
    }
  }
  std::unique_ptr<goroutine> free_it(g);
}

void registry::destroy_all() noexcept {
  for (auto& s : shards_) {
    goroutine* g;
    {
      std::lock_guard guard(s->m);
      g = s->head;
      s->head = nullptr;
    }
    while (g) {
      std::unique_ptr<goroutine> free_it(g);
      g = g->next;
      live_.fetch_sub(1, std::memory_order_relaxed);
    }
  }
}

std::uint64_t registry::begin_walk() noexcept {
  walkers_.fetch_add(1, std::memory_order_seq_cst);
  return epoch_.fetch_add(1, std::memory_order_acq_rel) + 1;
}

std::int64_t registry::collect(std::vector<goroutine*>& out) {
  constexpr std::size_t chunk = 256;
  std::int64_t max_hold = 0;
  for (auto& s : shards_) {
    goroutine* cursor = nullptr;
    bool started = false;
    while (!started || cursor) {
      std::lock_guard guard(s->m);
      const std::int64_t held_from = monotonic_ns();
      goroutine* g = started ? cursor : s->head;
      started = true;
      // Skip goroutines unlinked since the last chunk; their next pointers still lead forward.
      while (g && g->unlinked) g = g->next;
      for (std::size_t n = 0; g && n < chunk; ++n, g = g->next) {
        if (!g->unlinked) out.push_back(g);
      }
      cursor = g;
      max_hold = std::max(max_hold, monotonic_ns() - held_from);
    }
  }
  return max_hold;
}

void registry::end_walk() noexcept {
  std::lock_guard guard(retired_m_);
  if (walkers_.fetch_sub(1, std::memory_order_seq_cst) == 1) free_retired();
}

void registry::free_retired() noexcept {
  goroutine* g = std::exchange(retired_, nullptr);
  while (g) {
    std::unique_ptr<goroutine> free_it(g);
    g = g->retired_next;
  }
}

}  // namespace gprofid
