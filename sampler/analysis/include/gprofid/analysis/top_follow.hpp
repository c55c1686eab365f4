// One goroutine followed by ID across the samples `gprof-id top` holds: its state history (the
// points where its state, wait reason or stack changed), where it is now, and when it exited.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "gprofid/analysis/diff_summary.hpp"
#include "gprofid/recording/sample.hpp"

namespace gprofid {

struct top_followed {
  std::uint64_t id = 0;
  // When it was first seen and whenever its state, wait reason or stack changed; a point with
  // present == false is the first sample it was missing from (it had exited).
  std::vector<timeline_point> history;
  std::optional<goroutine_sample> last_seen;  // its latest record up to the position
  std::uint64_t last_seen_seq = 0;
  bool present = false;  // in the sample at the position
  bool exited = false;   // seen, then missing from a later sample up to the position
  std::int64_t exited_by_ns = 0;
  std::uint64_t exited_by_seq = 0;
  // The history point of its current stack (when the stack it has now began), if seen.
  std::optional<timeline_point> stack_since;
};

// Follows `id` through `samples` (in recording order), the last of which is the position.
// Goroutines are sorted by id in each sample: a binary search per sample.
top_followed follow_goroutine(std::uint64_t id, std::span<const sample> samples,
                              const symbol_tables& tables);

}  // namespace gprofid
