// One goroutine followed by ID across the samples `gprof-id top` holds: its state history (the
// points where its state, wait reason or stack changed), where it is now, and when it exited.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "gprofid/analysis/diff_summary.hpp"
#include "gprofid/analysis/sample_changes.hpp"
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

// One goroutine's history over a whole recording, gathered from its changes
// (recording_reader::next_changes) without holding the samples: what a replay keeps to give
// follow_goroutine's answer at any position.
class top_follow_track {
 public:
  explicit top_follow_track(std::uint64_t id) : id_(id) {}
  std::uint64_t id() const noexcept { return id_; }
  // Adds the sample at `index` (0, 1, ... in recording order), given as what it changed; false
  // once the goroutine has exited (ids are never reused: nothing more will be found).
  bool add(const sample_changes& c, std::size_t index, const symbol_tables& tables);
  // follow_goroutine(id, samples 0..index) of the recording, where `now` is sample `index`.
  top_followed at(std::size_t index, const sample& now) const;

 private:
  struct point {
    std::size_t index = 0;  // of the sample it was seen in
    timeline_point at;
    bool stack_changed = false;
    goroutine_sample record;     // as in that sample (a gone point: as last seen)
    std::uint64_t seen_seq = 0;  // the seq of the sample `record` is from
  };
  std::uint64_t id_;
  std::vector<point> points_;
  std::optional<goroutine_sample> last_;
  std::uint64_t previous_seq_ = 0;
  bool gone_ = false;
};

}  // namespace gprofid
