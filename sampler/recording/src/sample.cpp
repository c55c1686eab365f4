#include "gprofid/recording/sample.hpp"

#include <algorithm>

namespace gprofid {

bool operator==(const goroutine_sample& a, const goroutine_sample& b) noexcept {
  const bool same_labels = !a.labels == !b.labels && (!a.labels || *a.labels == *b.labels);
  return a.id == b.id && a.parent_id == b.parent_id && a.site == b.site && a.stack == b.stack &&
         a.state == b.state && a.reason == b.reason && a.created_ns == b.created_ns &&
         a.wait_ns == b.wait_ns && same_labels && a.resumes == b.resumes &&
         a.running_ns == b.running_ns && a.runnable_ns == b.runnable_ns &&
         a.blocked_on == b.blocked_on;
}

const goroutine_sample* find_goroutine(const sample& s, std::uint64_t id) noexcept {
  auto it = std::lower_bound(s.goroutines.begin(), s.goroutines.end(), id,
                             [](const goroutine_sample& g, std::uint64_t v) { return g.id < v; });
  return it != s.goroutines.end() && it->id == id ? &*it : nullptr;
}

const wait_object* find_object(const sample& s, std::uint64_t id) noexcept {
  if (id == 0) return nullptr;
  auto it = std::lower_bound(s.objects.begin(), s.objects.end(), id,
                             [](const wait_object& o, std::uint64_t v) { return o.id < v; });
  return it != s.objects.end() && it->id == id ? &*it : nullptr;
}

}  // namespace gprofid
