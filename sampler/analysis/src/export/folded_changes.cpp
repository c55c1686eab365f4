// folded_builder::add(sample_changes): the folded stacks from what changed, with add(sample)'s
// weights. Counted by goroutines, a sample adds the live goroutines of each stack, which change
// only as goroutines come, go or move; weighed by time, a wait that goes on is only looked at
// when it ends (its goroutine changes or exits, or the recording ends), its length then being
// what it was at the latest sample.
#include <algorithm>

#include "gprofid/analysis/export_folded.hpp"
#include "gprofid/saturating.hpp"

namespace gprofid {
namespace {

constexpr std::int64_t plain_limit = std::int64_t{1} << 62;  // as trace_changes.cpp's

bool plain_wait(const goroutine_sample& g) noexcept {
  return g.state != goroutine_state::waiting || (g.wait_ns >= 0 && g.wait_ns < plain_limit);
}

}  // namespace

void folded_builder::count(const goroutine_sample& g, int by) {
  if (g.state == goroutine_state::dead) return;
  if (g.stack >= live_per_stack_.size()) live_per_stack_.resize(g.stack + 1, 0);
  live_per_stack_[g.stack] += static_cast<std::uint64_t>(static_cast<std::int64_t>(by));
}

void folded_builder::bring_up_to(open_wait& w, std::int64_t t) const noexcept {
  // Unchanged since it was seen: the wait grew by the time since (plain times and waits: no
  // overflow).
  w.wait_ns += t - w.seen_ns;
  w.seen_ns = t;
}

// add(sample)'s step for a waiting goroutine the sample lists, `before` the previous sample's
// time.
void folded_builder::wait_seen(const goroutine_sample& g, std::int64_t now, std::int64_t before) {
  auto it = waits_.find(g.id);
  if (it != waits_.end()) bring_up_to(it->second, before);
  if (g.state != goroutine_state::waiting) {
    // Not waiting (or dead): a wait it was in ended at the previous sample.
    if (it != waits_.end()) {
      add_wait(it->second);
      waits_.erase(it);
    }
    return;
  }
  if (it != waits_.end() && it->second.stack == g.stack &&
      g.wait_ns >= saturating_sub(now, it->second.seen_ns)) {
    it->second.wait_ns = g.wait_ns;
    it->second.seen_ns = now;
    return;
  }
  if (it != waits_.end()) add_wait(it->second);
  waits_[g.id] = {g.stack, g.wait_ns, now};
}

bool folded_builder::simple(const sample_changes& c) const noexcept {
  if (options_.weight == folded_weight::goroutines) return true;  // no time involved
  if (c.time_ns < 0 || c.time_ns >= plain_limit || (samples_ > 0 && c.time_ns < last_ns_)) {
    return false;
  }
  return std::all_of(c.created.begin(), c.created.end(), plain_wait) &&
         std::all_of(c.changed_after.begin(), c.changed_after.end(), plain_wait);
}

void folded_builder::add(const symbol_tables& tables, const sample_changes& c,
                         const std::function<void(sample&)>& whole) {
  if (by_changes_ && !simple(c)) {
    // From here on whole samples: the waits the shortcut did not look at are brought to the
    // latest sample, where add(sample) would have them.
    by_changes_ = false;
    for (auto& [id, w] : waits_) bring_up_to(w, last_ns_);
  }
  if (!by_changes_) {
    sample s;
    whole(s);
    add(tables, s);
    return;
  }
  const std::int64_t now = c.time_ns;
  const std::int64_t before = samples_ > 0 ? last_ns_ : now;
  ++samples_;
  last_ns_ = now;
  if (options_.weight == folded_weight::goroutines) {
    for (const goroutine_sample& g : c.exited) count(g, -1);
    for (const goroutine_sample& g : c.changed_before) count(g, -1);
    for (const goroutine_sample& g : c.changed_after) count(g, 1);
    for (const goroutine_sample& g : c.created) count(g, 1);
    if (weight_of_stack_.size() < live_per_stack_.size()) {
      weight_of_stack_.resize(live_per_stack_.size(), nullptr);
    }
    for (std::uint32_t stack = 0; stack < live_per_stack_.size(); ++stack) {
      const std::uint64_t n = live_per_stack_[stack];
      if (n == 0) continue;
      std::uint64_t*& weight = weight_of_stack_[stack];
      if (!weight) weight = &weights_[folded_stack(tables, stack)];  // map nodes stay put
      *weight += n;
    }
    return;
  }
  for (const goroutine_sample& g : c.created) {
    // (Not dead and waiting, or nothing to do: a created goroutine has no wait yet.)
    if (g.state == goroutine_state::waiting) {
      folded_stack(tables, g.stack);
      wait_seen(g, now, before);
    }
  }
  for (const goroutine_sample& g : c.changed_after) {
    if (g.state != goroutine_state::dead) folded_stack(tables, g.stack);
    wait_seen(g, now, before);
  }
  for (const goroutine_sample& g : c.exited) {
    auto it = waits_.find(g.id);
    if (it == waits_.end()) continue;
    bring_up_to(it->second, before);
    add_wait(it->second);
    waits_.erase(it);
  }
}

}  // namespace gprofid
