#include "gprofid/analysis/sample_changes.hpp"

namespace gprofid {

void sample_changes::clear() noexcept {
  created.clear();
  exited.clear();
  changed_before.clear();
  changed_after.clear();
}

std::int64_t predicted_wait(goroutine_state before, std::int64_t wait_before, goroutine_state now,
                            std::int64_t dt) noexcept {
  if (now != goroutine_state::waiting || before != goroutine_state::waiting) return 0;
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(wait_before) +
                                   static_cast<std::uint64_t>(dt));
}

bool unchanged(const goroutine_sample& a, const goroutine_sample& b, std::int64_t dt) noexcept {
  const bool same_labels = a.labels == b.labels || (a.labels && b.labels && *a.labels == *b.labels);
  return a.id == b.id && a.parent_id == b.parent_id && a.site == b.site && a.stack == b.stack &&
         a.state == b.state && a.reason == b.reason && a.created_ns == b.created_ns &&
         a.resumes == b.resumes && a.running_ns == b.running_ns && a.runnable_ns == b.runnable_ns &&
         a.blocked_on == b.blocked_on && same_labels &&
         b.wait_ns == predicted_wait(a.state, a.wait_ns, b.state, dt);
}

void changes_between(const std::vector<goroutine_sample>& before, std::int64_t before_ns,
                     const std::vector<goroutine_sample>& after, std::int64_t after_ns,
                     sample_changes& out) {
  out.clear();
  const auto dt = static_cast<std::int64_t>(static_cast<std::uint64_t>(after_ns) -
                                            static_cast<std::uint64_t>(before_ns));
  std::size_t i = 0, j = 0;
  while (i < before.size() || j < after.size()) {
    if (j == after.size() || (i < before.size() && before[i].id < after[j].id)) {
      out.exited.push_back(before[i++]);
    } else if (i == before.size() || after[j].id < before[i].id) {
      out.created.push_back(after[j++]);
    } else {
      if (!unchanged(before[i], after[j], dt)) {
        out.changed_before.push_back(before[i]);
        out.changed_after.push_back(after[j]);
      }
      ++i;
      ++j;
    }
  }
}

}  // namespace gprofid
