// The whole-recording view of a diff: per-goroutine lifecycles, per-spawn-site growth, the
// longest-stuck goroutines and warnings, built while streaming samples one at a time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gprofid/analysis/diff.hpp"
#include "gprofid/recording/sample.hpp"
#include "gprofid/saturating.hpp"

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

// What one goroutine did over the recording.
struct goroutine_lifecycle {
  std::uint64_t id = 0;
  std::uint64_t parent_id = 0;
  std::uint32_t site = 0;
  label_ptr labels{};  // as last seen
  std::int64_t created_ns = 0;
  std::uint64_t first_seq = 0;
  std::uint64_t last_seq = 0;
  std::int64_t first_seen_ns = 0;
  std::int64_t last_seen_ns = 0;
  bool created_inside = false;  // absent from the first sample
  bool exited_inside = false;   // absent from the last sample
  goroutine_state last_state = goroutine_state::runnable;
  wait_reason last_reason = wait_reason::none;
  std::uint32_t last_stack = 0;
  std::uint32_t state_changes = 0;
  std::uint32_t stack_changes = 0;
  std::int64_t longest_wait_ns = 0;  // the largest wait_ns seen
  wait_reason longest_wait_reason = wait_reason::none;
  // Longest run of consecutive samples waiting with the same reason and stack (>= 2 samples).
  std::uint32_t stuck_samples = 0;
  std::int64_t stuck_ns = 0;  // max(run span, wait_ns at its end)
  std::int64_t stuck_since_ns = 0;
  wait_reason stuck_reason = wait_reason::none;
  std::uint32_t stuck_stack = 0;
  // Longest run of consecutive samples running with an unchanged resumes counter.
  std::uint32_t hog_samples = 0;
  std::int64_t hog_ns = 0;
  std::vector<timeline_point> timeline;  // only for followed goroutines

  // created -> last seen, for goroutines created inside; else first seen -> last seen.
  std::int64_t lifetime_ns() const noexcept {
    return saturating_sub(last_seen_ns, created_inside ? created_ns : first_seen_ns);
  }

  // Bookkeeping of the runs in progress.
  std::uint32_t run_samples = 0;
  std::int64_t run_since_ns = 0;
  std::uint32_t hog_run = 0;
  std::int64_t hog_since_ns = 0;
  std::uint64_t last_resumes = 0;
  bool alive = true;
};

// Goroutines of one spawn site over the recording, ranked so that a leaking site comes first.
struct site_growth {
  std::uint32_t site = 0;
  std::uint64_t alive_start = 0;   // in the first sample
  std::uint64_t alive_end = 0;     // in the last sample
  std::uint64_t created = 0;       // first seen after the first sample
  std::uint64_t exited = 0;        // gone before the last sample
  std::int64_t net_growth = 0;     // alive_end - alive_start
  double growth_per_s = 0;         // net_growth over the recording's span
  std::uint64_t windows = 0;       // sample pairs seen
  bool grew_every_window = false;  // its live count rose in each of >= 2 windows
};

struct summary_warning {
  enum class kind : std::uint8_t { never_yielded, site_growing };
  kind what = kind::never_yielded;
  std::uint64_t id = 0;       // never_yielded: the goroutine
  std::uint32_t site = 0;     // the goroutine's or the growing site
  std::uint32_t samples = 0;  // never_yielded: consecutive samples; site_growing: windows
  std::int64_t duration_ns = 0;
};

std::string_view to_string(summary_warning::kind k) noexcept;

struct diff_summary {
  std::uint64_t samples = 0;
  std::uint64_t first_seq = 0;
  std::uint64_t last_seq = 0;
  std::int64_t first_time_ns = 0;
  std::int64_t last_time_ns = 0;
  std::uint64_t goroutines_seen = 0;
  std::uint64_t alive_start = 0;
  std::uint64_t alive_end = 0;
  std::uint64_t created = 0;                       // first seen after the first sample
  std::uint64_t exited = 0;                        // gone before the last sample
  std::vector<goroutine_lifecycle> goroutines;     // sorted by id; with timelines if followed
  bool followed = false;                           // --id or --label given: timelines kept
  std::vector<site_growth> sites;                  // leaking first
  std::vector<goroutine_lifecycle> longest_stuck;  // longest first
  std::vector<summary_warning> warnings;
};

// Consumes a recording's samples in order. Holds per-goroutine state, never a sample.
class summary_builder {
 public:
  explicit summary_builder(goroutine_filter filter = {}, std::size_t top_stuck = 10)
      : filter_(std::move(filter)), top_stuck_(top_stuck) {}

  // `tables` covers `s` (the recording's tables as of this sample).
  void add(const sample& s, const symbol_tables& tables);
  diff_summary finish();

 private:
  void update(goroutine_lifecycle& l, const goroutine_sample& g, const sample& s);
  void note_gone(goroutine_lifecycle& l, const sample& s);
  goroutine_lifecycle start(const goroutine_sample& g, const sample& s, bool first_sample);

  goroutine_filter filter_;
  std::size_t top_stuck_;
  bool follow_ = false;
  const symbol_tables* tables_ = nullptr;
  diff_summary out_;
  std::vector<goroutine_lifecycle> tracked_;  // sorted by id
  std::vector<std::uint64_t> site_alive_;     // per site, in the last sample
  std::vector<std::uint64_t> site_alive_start_;
  std::vector<std::uint8_t> site_grew_;  // 1 while the site grew in every window so far
  std::uint64_t windows_ = 0;
};

}  // namespace gprofid
