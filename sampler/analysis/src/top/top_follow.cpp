#include "gprofid/analysis/top_follow.hpp"

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

}  // namespace gprofid
