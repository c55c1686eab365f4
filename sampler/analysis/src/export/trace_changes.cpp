// trace_writer::add(sample_changes): the timeline from what changed. add(sample) looks at every
// goroutine of every sample, but for one that did not change it only lengthens its open slice to
// the sample's time (and counts it): here such a goroutine is not looked at, its open slice is
// taken to reach the latest sample's time, and that end is written in when the track is touched
// again (or closed, or finished). The output is add(sample)'s, byte for byte.
#include <algorithm>

#include "gprofid/analysis/export_trace.hpp"

namespace gprofid {
namespace {

// Times and waits below this keep every sum the shortcut relies on (a wait grown by the time
// since it was seen) far from overflowing.
constexpr std::int64_t plain_limit = std::int64_t{1} << 62;

bool plain_wait(const goroutine_sample& g) noexcept {
  return g.state != goroutine_state::waiting || (g.wait_ns >= 0 && g.wait_ns < plain_limit);
}

}  // namespace

void trace_writer::count(goroutine_state s, int by) noexcept {
  const auto d = static_cast<std::uint64_t>(static_cast<std::int64_t>(by));
  switch (s) {
    case goroutine_state::running:
      open_counts_.running += d;
      break;
    case goroutine_state::runnable:
      open_counts_.runnable += d;
      break;
    case goroutine_state::waiting:
      open_counts_.waiting += d;
      break;
    case goroutine_state::dead:
      break;
  }
}

// Whether add(sample) would treat every goroutine this sample does not list as lengthening its
// slice: the clock moves forward from where it was (so the writer's time is the sample's), and
// every wait seen so far was plain (so an unchanged wait, grown by the time since the previous
// sample, is at least that time: the same wait).
bool trace_writer::simple(const sample_changes& c) const noexcept {
  if (c.time_ns < 0 || c.time_ns >= plain_limit || (samples_ > 0 && c.time_ns < last_ns_)) {
    return false;
  }
  return std::all_of(c.created.begin(), c.created.end(), plain_wait) &&
         std::all_of(c.changed_after.begin(), c.changed_after.end(), plain_wait);
}

void trace_writer::touch(const symbol_tables& tables, const goroutine_sample& g, std::int64_t now,
                         std::vector<std::uint64_t>& fresh) {
  track* found = track_of(tables, g, now, fresh);
  if (!found) return;
  track& t = *found;
  if (t.open) {
    // Lengthened to the previous sample by every sample that did not list it.
    t.segments.back().end_ns = prev_ns_;
    count(t.counted, -1);
  }
  observe(t, g, now);
  if (t.open) {
    t.counted = g.state;
    count(g.state, 1);
  }
  touched_.push_back(g.id);
}

void trace_writer::add(const symbol_tables& tables, const sample_changes& c,
                       const std::function<void(sample&)>& whole) {
  if (by_changes_ && !simple(c)) {
    // From here on every sample is looked at whole: bring the slices the shortcut left open
    // up to the latest sample, where add(sample) would have them.
    by_changes_ = false;
    for (auto& [id, t] : tracks_) {
      if (t.open) t.segments.back().end_ns = last_ns_;
    }
  }
  if (!by_changes_) {
    sample s;
    whole(s);
    add(tables, s);
    return;
  }
  const std::int64_t now = begin_sample(tables, c.time_ns);
  touched_.clear();
  std::vector<std::uint64_t> fresh;  // first seen in this sample
  // Created and changed goroutines in id order, as add(sample) meets them (thread names are
  // written as new tracks are met).
  auto a = c.created.begin();
  auto b = c.changed_after.begin();
  while (a != c.created.end() || b != c.changed_after.end()) {
    if (b == c.changed_after.end() || (a != c.created.end() && a->id < b->id)) {
      touch(tables, *a++, now, fresh);
    } else {
      touch(tables, *b++, now, fresh);
    }
  }
  // Goroutines open before this sample and missing from it exited at its time.
  for (const goroutine_sample& g : c.exited) {
    auto it = tracks_.find(g.id);
    if (it == tracks_.end() || !it->second.open) continue;
    it->second.segments.back().end_ns = now;
    it->second.open = false;
    count(it->second.counted, -1);
    touched_.push_back(g.id);
  }
  for (std::uint64_t id : fresh) {
    track& child = tracks_.at(id);
    start_flow(child);
    // The parent's slice may have been split at the creation: its first part is to be written.
    if (child.parent_id != 0 && tracks_.count(child.parent_id) != 0) {
      touched_.push_back(child.parent_id);
    }
  }
  std::sort(touched_.begin(), touched_.end());
  touched_.erase(std::unique(touched_.begin(), touched_.end()), touched_.end());
  for (std::uint64_t id : touched_) {
    if (auto it = tracks_.find(id); it != tracks_.end()) write_track(it, now);
  }
  end_sample(now, open_counts_);
}

}  // namespace gprofid
