// Exports samples as a Chrome trace-event JSON timeline (Perfetto UI, chrome://tracing): one
// track per goroutine, grouped by spawn site, with its states as slices between samples.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include <nlohmann/json.hpp>

#include "gprofid/recording/sample.hpp"

namespace gprofid {

// Builds the timeline one sample at a time, so a recording can be streamed through it. The state
// seen at a sample is assumed to hold until the next sample, except that a wait is drawn from
// when it began (sample time - wait_ns) and a goroutine's first slice from its creation when it
// was created after the previous sample. A goroutine missing from the next sample (or seen dead)
// exited at that sample's time.
class trace_builder {
 public:
  // Samples must be added in recording order.
  void add(const sample& s);

  // The trace: {"traceEvents": [...], "displayTimeUnit": "ns"}. `tables` must cover every added
  // sample (tables only grow, so the latest ones do). Slices still open end one sampling
  // interval after the last sample (1 ms when there was only one sample).
  nlohmann::json finish(const symbol_tables& tables) const;

 private:
  struct segment {
    std::int64_t start_ns = 0;
    std::int64_t end_ns = 0;
    goroutine_state state = goroutine_state::runnable;
    wait_reason reason = wait_reason::none;
    std::uint32_t stack = 0;
    label_ptr labels;
  };
  struct track {
    std::uint64_t parent_id = 0;
    std::uint32_t site = 0;
    std::int64_t created_ns = 0;
    std::vector<segment> segments;
    bool open = false;  // seen alive in the latest sample
    bool exited = false;
    std::int64_t exit_ns = 0;
  };
  struct counts {
    std::int64_t time_ns = 0;
    std::uint64_t running = 0, runnable = 0, waiting = 0;
  };

  void observe(track& t, const goroutine_sample& g, std::int64_t now);

  std::map<std::uint64_t, track> tracks_;  // by goroutine id
  std::vector<std::uint64_t> open_;        // ids alive in the latest sample, ascending
  std::vector<counts> counters_;
  std::int64_t last_ns_ = 0;
  std::int64_t prev_ns_ = 0;  // the sample before the latest one
  std::uint64_t samples_ = 0;
};

// The whole timeline of `samples` at once.
nlohmann::json chrome_trace(const symbol_tables& tables, const std::vector<sample>& samples);

}  // namespace gprofid
