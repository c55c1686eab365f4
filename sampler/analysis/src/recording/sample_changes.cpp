#include "gprofid/analysis/sample_changes.hpp"

#include <algorithm>

namespace gprofid {

void sample_changes::clear() noexcept {
  created.clear();
  exited.clear();
  changed_before.clear();
  changed_after.clear();
}

std::size_t sample_changes::largest() const noexcept {
  return std::max({created.size(), exited.size(), changed_before.size(), changed_after.size()});
}

void sample_changes::release_beyond(std::size_t n) noexcept {
  for (std::vector<goroutine_sample>* v : {&created, &exited, &changed_before, &changed_after}) {
    if (v->capacity() > n) std::vector<goroutine_sample>().swap(*v);
  }
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

}  // namespace gprofid
