#include "registry.hpp"

#include <algorithm>

#include "asymmetric_fence.hpp"
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
    // A goroutine created after a tracking walk's instant (created_epoch >= its epoch) sees
    // tracking_ set: start_tracking() precedes that walk's epoch bump, which the acquire above
    // reads. One created before the instant is in the walk, which takes it out of quiet.
    if (tracking_.load(std::memory_order_acquire)) {
      // A new goroutine's frames are new to every cursor.
      g->change_bits.store(change_bit::listed, std::memory_order_relaxed);
      push_changed(g, g->shard);  // under the shard's mutex: see stop_tracking
    } else {
      g->change_bits.store(change_bit::quiet, std::memory_order_relaxed);
    }
    g->next.store(s.head, std::memory_order_relaxed);  // published by the lock (see collect)
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
    goroutine* next = g->next.load(std::memory_order_relaxed);
    if (g->prev) g->prev->next.store(next, std::memory_order_release);
    if (next) next->prev = g->prev;
    if (s.head == g) s.head = next;
    g->unlinked.store(true, std::memory_order_release);
    // g->next stays as it was, so that a walker standing on g still reaches live goroutines.
  }
  live_.fetch_sub(1, std::memory_order_relaxed);
  // The frame (its arguments and what they own) goes now, even if the block is kept for a walk
  // or a list: nothing reads the frames of a dead goroutine. Before `dead` is set: from then on
  // a delta may free the block.
  std::exchange(g->root, {}).destroy();
  // Still on a changed list: the list owns it now (the delta that takes it off reports the exit
  // and frees it).
  if (g->change_bits.fetch_or(change_bit::dead, std::memory_order_acq_rel) & change_bit::listed) {
    return;
  }
  if (walkers_.load(std::memory_order_seq_cst) != 0) {
    std::lock_guard guard(retired_m_);
    if (walkers_.load(std::memory_order_seq_cst) != 0) {
      g->list_next = retired_;
      retired_ = g;
      return;
    }
  }
  std::unique_ptr<goroutine> free_it(g);
}

void registry::destroy_all() noexcept {
  drain_changed(false);  // first: the lists point at goroutines freed below
  for (auto& s : shards_) {
    goroutine* g;
    {
      std::lock_guard guard(s->m);
      g = s->head;
      s->head = nullptr;
    }
    while (g) {
      std::unique_ptr<goroutine> free_it(g);
      g = g->next.load(std::memory_order_relaxed);
      live_.fetch_sub(1, std::memory_order_relaxed);
    }
  }
}

std::uint64_t registry::begin_walk() noexcept {
  walkers_.fetch_add(1, std::memory_order_seq_cst);
  return epoch_.fetch_add(1, std::memory_order_acq_rel) + 1;
}

std::int64_t registry::collect(std::vector<goroutine*>& out) {
  std::int64_t max_hold = 0;
  for (auto& s : shards_) {
    goroutine* g;
    {
      // Only the head is read under the lock. A create() that linked its goroutine before this
      // read is in the walk; one that takes the lock after it reads the walk's epoch (begin_walk
      // came first) and is excluded by it. So a spawn or exit on this shard waits at most for
      // this read, even if the walker is preempted in the middle of the list.
      std::lock_guard guard(s->m);
      const std::int64_t held_from = monotonic_ns();
      g = s->head;
      max_hold = std::max(max_hold, monotonic_ns() - held_from);
    }
    // The links are followed without the lock: every goroutine reached was linked before the
    // head was read, and one unlinked meanwhile stays allocated until end_walk (retired) with
    // its next link still leading forward to the live ones.
    for (; g; g = g->next.load(std::memory_order_acquire)) {
      if (!g->unlinked.load(std::memory_order_acquire)) out.push_back(g);
      if (collect_step_for_test) collect_step_for_test();
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
    g = g->list_next;
  }
}

void registry::push_changed(goroutine* g, std::size_t shard) noexcept {
  // Push only (the delta takes the whole list at once), so no ABA.
  auto& head = shards_[shard]->changed;
  goroutine* h = head.load(std::memory_order_relaxed);
  do {
    g->list_next = h;
  } while (!head.compare_exchange_weak(h, g, std::memory_order_release, std::memory_order_relaxed));
}

void registry::list_changed(goroutine* g, std::size_t shard, std::uint8_t bits) noexcept {
  // A compare-and-swap rather than fetch_or, so that a goroutine made quiet meanwhile (by
  // stop_tracking) is not listed.
  while ((bits & (change_bit::listed | change_bit::quiet)) == 0) {
    if (g->change_bits.compare_exchange_weak(bits, bits | change_bit::listed,
                                             std::memory_order_acq_rel,
                                             std::memory_order_relaxed)) {
      push_changed(g, shard);
      return;
    }
  }
}

bool registry::relist(goroutine* g) noexcept {
  auto bits = g->change_bits.load(std::memory_order_relaxed);
  for (;;) {
    if (bits & change_bit::dead) return false;
    if (bits & change_bit::listed) return true;
    if (g->change_bits.compare_exchange_weak(bits, bits | change_bit::listed,
                                             std::memory_order_acq_rel,
                                             std::memory_order_relaxed)) {
      push_changed(g, foreign_shard());
      return true;
    }
  }
}

void registry::start_tracking() noexcept {
  detail::prepare_heavy_fence();
  tracking_.store(true, std::memory_order_seq_cst);
}

void registry::stop_tracking() {
  tracking_.store(false, std::memory_order_seq_cst);
  // A create() that read tracking_ set pushes under its shard's mutex: once each mutex has been
  // taken, none is still pushing, and later ones make their goroutines quiet.
  for (auto& s : shards_) std::lock_guard guard(s->m);
  std::vector<goroutine*> all;
  collect(all);  // inside a walk: none of them is freed meanwhile
  for (goroutine* g : all) g->change_bits.fetch_or(change_bit::quiet, std::memory_order_acq_rel);
  // After: a goroutine listed before it was made quiet is on a list now.
  drain_changed(true);
}

goroutine* registry::take_changed() noexcept {
  goroutine* all = nullptr;
  for (auto& s : shards_) {
    goroutine* h = s->changed.exchange(nullptr, std::memory_order_acquire);
    if (!h) continue;
    goroutine* tail = h;
    while (tail->list_next) tail = tail->list_next;
    tail->list_next = all;
    all = h;
  }
  return all;
}

void registry::free_owned(goroutine* g) noexcept {
  std::unique_ptr<goroutine> free_it(g);
}

// g's worker reads goroutine_flag::panicked without g's lock: only it writes that bit.
static bool has_panicked(const goroutine& g) noexcept {
  return (g.flags.load(std::memory_order_relaxed) & goroutine_flag::panicked) != 0;
}

bool registry::is_new_panic(const goroutine& g, const std::exception_ptr& exception) {
  if (!has_panicked(g)) return true;
  std::lock_guard guard(panics_m_);
  auto it = panics_.find(g.id);
  return it == panics_.end() || it->second.exception != exception;
}

void registry::note_panic(goroutine& g, panic_record r) {
  std::lock_guard guard(panics_m_);
  panics_.insert_or_assign(g.id, std::move(r));
  std::lock_guard flags(g.lock);  // panics_m_ -> g.lock
  g.set_flags_locked(goroutine_flag::panicked);
}

std::string registry::panic_stack(const goroutine& g) {
  if (!has_panicked(g)) return {};
  std::lock_guard guard(panics_m_);
  auto it = panics_.find(g.id);
  return it == panics_.end() ? std::string() : it->second.stack;
}

void registry::forget_panic(goroutine& g) noexcept {
  if (!has_panicked(g)) return;
  std::lock_guard guard(panics_m_);
  panics_.erase(g.id);
  std::lock_guard flags(g.lock);  // panics_m_ -> g.lock
  g.clear_flags_locked(goroutine_flag::panicked);
}

void registry::drain_changed(bool quiet) noexcept {
  for (goroutine* g = take_changed(); g;) {
    goroutine* next = g->list_next;  // before the bits: once unlisted, g may be freed
    auto bits = g->change_bits.load(std::memory_order_relaxed);
    std::uint8_t unlisted;
    do {
      unlisted =
          static_cast<std::uint8_t>((bits & ~change_bit::listed) | (quiet ? change_bit::quiet : 0));
    } while (!g->change_bits.compare_exchange_weak(bits, unlisted, std::memory_order_acq_rel,
                                                   std::memory_order_relaxed));
    if (bits & change_bit::dead) free_owned(g);
    g = next;
  }
}

}  // namespace gprofid
