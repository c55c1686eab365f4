// What the summary holds of a goroutine while it is alive: the part of its goroutine_lifecycle
// that every sample may touch (168 bytes), with the rarely set rest in
// a side table. At 10^6 live goroutines the live set is most of the summary's memory. The
// lifecycle is made whole (summary_builder::lifecycle_of) when it is final or reported.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "gprofid/recording/sample.hpp"
#include "gprofid/recording/wait_graph.hpp"

namespace gprofid {

// One state of a followed goroutine (--id / --label): recorded when it first appears, whenever
// its state, wait reason or stack changes, and when it is gone.
struct timeline_point {
  std::uint64_t seq = 0;
  std::int64_t time_ns = 0;
  bool present = true;  // false: gone (exited) at this sample
  goroutine_state state = goroutine_state::runnable;
  wait_reason reason = wait_reason::none;
  std::uint32_t stack = 0;
  std::int64_t wait_ns = 0;
};

// The lifecycle's parts most goroutines never set: a timeline (only when --id or --label
// follows it), the wait-for graph's verdicts and the lost wake-up run. Fields as in
// goroutine_lifecycle.
struct lifecycle_extras {
  std::vector<timeline_point> timeline;
  bool deadlocked = false;
  bool behind_deadlock = false;
  bool leaked = false;
  leak_rule leak_kind = leak_rule::closed_set;
  // The channels it waits on with their handle counts: a site's report counts each channel
  // once, however many of its goroutines wait on it.
  std::vector<std::pair<std::uint64_t, std::uint32_t>> leak_channels;
  std::uint64_t leaked_seq = 0;
  std::int64_t leaked_ns = 0;
  std::uint64_t leak_resumes = 0;
  std::uint64_t lost_wakeup_object = 0;
  std::uint32_t lost_wakeup_samples = 0;
};

// What a goroutine's lifecycle (goroutine_lifecycle) and the summary's live form of it
// (live_lifecycle) share: one assignment copies it from the one to the other.
struct lifecycle_state {
  std::uint64_t id = 0;
  std::uint64_t parent_id = 0;
  label_ptr labels{};  // as last seen
  std::int64_t created_ns = 0;
  std::uint64_t last_index = 0;      // the summary's count of samples when last brought up to date
  std::int64_t longest_wait_ns = 0;  // the largest wait_ns seen
  // Longest continuing wait (wait_continues: not resumed in between) over >= 2 samples.
  std::int64_t stuck_ns = 0;  // max(run span, wait_ns at its end)
  std::int64_t stuck_since_ns = 0;
  // Longest run of consecutive samples running with an unchanged resumes counter.
  std::int64_t hog_ns = 0;
  // Bookkeeping of the runs in progress.
  std::int64_t run_since_ns = 0;
  std::int64_t hog_since_ns = 0;
  std::uint64_t last_resumes = 0;
  std::int64_t last_wait_ns = 0;
  std::uint32_t site = 0;
  std::uint32_t last_stack = 0;
  std::uint32_t state_changes = 0;
  std::uint32_t stack_changes = 0;
  std::uint32_t stuck_samples = 0;
  std::uint32_t stuck_stack = 0;
  std::uint32_t hog_samples = 0;
  std::uint32_t run_samples = 0;
  std::uint32_t hog_run = 0;
  goroutine_state last_state = goroutine_state::runnable;
  wait_reason last_reason = wait_reason::none;
  wait_reason longest_wait_reason = wait_reason::none;
  wait_reason stuck_reason = wait_reason::none;
};

// The state as the live set holds it (168 bytes); what it does not hold follows from the sample
// indices (the seq and time of its first and last sample) or is in its lifecycle_extras.
struct live_lifecycle : lifecycle_state {
  static constexpr std::uint32_t no_extras = UINT32_MAX;

  std::uint64_t first_index = 0;     // the summary's count of samples when it was first seen
  std::uint32_t extras = no_extras;  // index into the summary's side table

  bool created_inside() const noexcept { return first_index > 1; }  // absent from sample 1
};

}  // namespace gprofid
