#include "gprofid/analysis/top_follow.hpp"

#include <algorithm>

#include "gprofid/analysis/diff.hpp"

namespace gprofid {

top_followed follow_goroutine(std::uint64_t id, std::span<const sample> samples,
                              const symbol_tables& tables) {
  top_followed f;
  f.id = id;
  for (const sample& s : samples) {
    const goroutine_sample* g = find_goroutine(s, id);
    if (!g) {
      // Ids are never reused, so once seen and then missing, it has exited for good.
      if (f.last_seen && !f.exited) {
        f.exited = true;
        f.exited_by_ns = s.time_ns;
        f.exited_by_seq = s.seq;
        f.history.push_back({s.seq, s.time_ns, false, f.last_seen->state, f.last_seen->reason,
                             f.last_seen->stack, 0});
      }
      continue;
    }
    const timeline_point p{s.seq, s.time_ns, true, g->state, g->reason, g->stack, g->wait_ns};
    const bool first = !f.last_seen;
    const bool stack_changed = first || !same_stack(tables, f.last_seen->stack, g->stack);
    if (first || stack_changed || f.last_seen->state != g->state ||
        f.last_seen->reason != g->reason) {
      f.history.push_back(p);
    }
    if (stack_changed) f.stack_since = p;
    f.last_seen = *g;
    f.last_seen_seq = s.seq;
  }
  f.present = !samples.empty() && f.last_seen && f.last_seen_seq == samples.back().seq && !f.exited;
  return f;
}

namespace {
const goroutine_sample* find_by_id(const std::vector<goroutine_sample>& v, std::uint64_t id) {
  auto it = std::lower_bound(v.begin(), v.end(), id,
                             [](const goroutine_sample& g, std::uint64_t x) { return g.id < x; });
  return it != v.end() && it->id == id ? &*it : nullptr;
}
}  // namespace

bool top_follow_track::add(const sample_changes& c, std::size_t index,
                           const symbol_tables& tables) {
  if (gone_) return false;
  const goroutine_sample* g = find_by_id(c.created, id_);
  if (!g) g = find_by_id(c.changed_after, id_);
  if (g) {
    // The points follow_goroutine makes: first seen, then a change of state, reason or stack.
    const bool first = !last_;
    const bool stack_changed = first || !same_stack(tables, last_->stack, g->stack);
    if (first || stack_changed || last_->state != g->state || last_->reason != g->reason) {
      points_.push_back({index,
                         {c.seq, c.time_ns, true, g->state, g->reason, g->stack, g->wait_ns},
                         stack_changed,
                         *g,
                         c.seq});
    }
    last_ = *g;
  } else if (const goroutine_sample* x = last_ ? find_by_id(c.exited, id_) : nullptr) {
    points_.push_back({index,
                       {c.seq, c.time_ns, false, x->state, x->reason, x->stack, 0},
                       false,
                       *x,
                       previous_seq_});
    gone_ = true;
  }
  previous_seq_ = c.seq;
  return !gone_;
}

top_followed top_follow_track::at(std::size_t index, const sample& now) const {
  top_followed f;
  f.id = id_;
  const auto end = std::upper_bound(points_.begin(), points_.end(), index,
                                    [](std::size_t i, const point& p) { return i < p.index; });
  for (auto p = points_.begin(); p != end; ++p) {
    f.history.push_back(p->at);
    if (p->stack_changed) f.stack_since = p->at;
  }
  if (const goroutine_sample* g = find_goroutine(now, id_)) {
    // Unchanged since its last point, but for the wait that grew: the sample has it as it is.
    f.last_seen = *g;
    f.last_seen_seq = now.seq;
    f.present = true;
  } else if (end != points_.begin() && !(end - 1)->at.present) {
    const point& gone = *(end - 1);
    f.exited = true;
    f.exited_by_ns = gone.at.time_ns;
    f.exited_by_seq = gone.at.seq;
    f.last_seen = gone.record;
    f.last_seen_seq = gone.seen_seq;
  }
  return f;
}

}  // namespace gprofid
