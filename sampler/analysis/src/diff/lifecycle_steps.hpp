// The steps of a goroutine's lifecycle that both ways of building a summary take: sample by
// sample (summary_builder::update) and k samples at once (summary_builder::catch_up).
#pragma once

#include <cstdint>

#include "gprofid/analysis/diff_summary.hpp"
#include "gprofid/analysis/wait_rules.hpp"

namespace gprofid::lifecycle_steps {

// The goroutine as seen in `s`, for comparing it with its next sample.
// (Its seq and time are those of sample s.index: summary_builder::lifecycle_of.)
template <class At>
void remember_last(live_lifecycle& l, const goroutine_sample& g, const At& s) {
  l.last_wait_ns = g.wait_ns;
  l.last_state = g.state;
  l.last_reason = g.reason;
  l.last_stack = g.stack;
  l.last_resumes = g.resumes;
  // Mostly the same label set: a copy of the shared_ptr would be two atomic operations.
  if (l.labels != g.labels) l.labels = g.labels;
  l.last_index = s.index;
}

// A continuing wait now `span` long: the longest such wait is the goroutine's stuck extent.
inline void note_stuck(live_lifecycle& l, std::int64_t span, const goroutine_sample& g) {
  if (span > l.stuck_ns || l.stuck_samples == 0) {
    l.stuck_samples = l.run_samples;
    l.stuck_ns = span;
    l.stuck_since_ns = l.run_since_ns;
    l.stuck_reason = g.reason;
    l.stuck_stack = g.stack;
  }
}

inline void note_longest_wait(live_lifecycle& l, const goroutine_sample& g) {
  if (g.wait_ns > l.longest_wait_ns) {
    l.longest_wait_ns = g.wait_ns;
    l.longest_wait_reason = g.reason;
  }
}

}  // namespace gprofid::lifecycle_steps
