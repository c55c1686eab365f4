#include "gprofid/analysis/wait_rules.hpp"

#include "gprofid/analysis/diff.hpp"

namespace gprofid {

std::int64_t wait_start(const goroutine_sample& g, std::int64_t sample_time_ns) noexcept {
  return saturating_sub(sample_time_ns, g.wait_ns);
}

bool wait_continues(const goroutine_sample& a, std::int64_t a_time_ns, const goroutine_sample& b,
                    std::int64_t b_time_ns, const symbol_tables& tables) noexcept {
  if (a.state != goroutine_state::waiting || b.state != goroutine_state::waiting) return false;
  if (a.reason != b.reason || a.resumes != b.resumes) return false;
  // wait_ns 0 means "not known" (old or hand-made recordings): resumes alone decides then.
  if (a.wait_ns > 0 && b.wait_ns > 0 && wait_start(a, a_time_ns) != wait_start(b, b_time_ns)) {
    return false;
  }
  return same_stack(tables, a.stack, b.stack);
}

bool run_continues(const goroutine_sample& a, const goroutine_sample& b) noexcept {
  return a.state == goroutine_state::running && b.state == goroutine_state::running &&
         a.resumes == b.resumes;
}

}  // namespace gprofid
