// Exports samples as a Chrome trace-event JSON timeline (DevTools' Performance panel, Perfetto,
// chrome://tracing, speedscope): one track per goroutine, grouped by spawn site, with its states
// as slices between samples, spawn arrows, exit markers and goroutine counts.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "gprofid/analysis/id_run_set.hpp"
#include "gprofid/analysis/sample_changes.hpp"
#include "gprofid/recording/sample.hpp"

namespace gprofid {

// Receives the trace text a piece at a time, in order (the CLI writes it to the output file).
using trace_sink = std::function<void(std::string_view)>;

// `ns` nanoseconds as the exact decimal number of microseconds the trace format wants:
// 1234567 -> "1234.567", 1500 -> "1.5", 2000 -> "2". Negative values are written as 0.
std::string micros_text(std::int64_t ns);

// The largest duration d <= end_ns - start_ns whose end, as the consumers compute it in double
// arithmetic from the written microseconds, does not pass end_ns: ts + d for DevTools, and
// (ts - origin) + d for speedscope, which first subtracts the track's first timestamp `origin_ns`.
// Usually end_ns - start_ns itself; one or two nanoseconds less where rounding would overshoot.
std::int64_t fitted_duration(std::int64_t start_ns, std::int64_t end_ns, std::int64_t origin_ns);

// Streams the timeline: each add() writes the slices that sample closed, so memory holds only
// the goroutines alive at the latest sample and the runs of ids met (one run while every goroutine
// the runtime created was sampled, however many exited: id_run_set). The state seen at a
// sample is assumed to hold until the next sample, except that a wait is drawn from when it began
// (sample time - wait_ns) and a goroutine's first slice from its creation when it was created after
// the previous sample (a goroutine first seen waiting gets a "running|runnable" slice from then
// until its wait began). A goroutine missing from the next sample (or seen dead) exited at that
// sample's time.
class trace_writer {
 public:
  explicit trace_writer(trace_sink sink);

  // Samples must be added in recording order; `tables` must cover `s`. Any times are accepted:
  // a sample time before the previous sample's (or before 0) is taken as that time (as 0), so
  // the timeline never runs backwards, and spans saturate instead of overflowing.
  void add(const symbol_tables& tables, const sample& s);
  // The same, from what the sample changed (recording_reader::next_changes): only the
  // goroutines created, exited or changed are looked at, the others' open slices go on, so a
  // sample costs its changes. `whole` fills in the sample whole; it is asked for when a time or
  // a wait in the recording is one the shortcut would not draw as add(sample) does (a time that
  // goes back, is negative or above 2^62 ns; a wait that is negative or above 2^62 ns), and for
  // every sample after that. Use one of the two add()s for a whole recording.
  void add(const symbol_tables& tables, const sample_changes& c,
           const std::function<void(sample&)>& whole);

  // Ends the slices still open one sampling interval after the last sample (1 ms when there was
  // only one sample), writes the process names and closes the JSON object. Call once.
  void finish(const symbol_tables& tables);

  // Spawns drawn as arrows, and spawns that could not be (the child's creation is outside the
  // parent's recorded slices, or the child never left the slice it was created in).
  std::uint64_t flows_written() const noexcept { return flows_written_; }
  std::uint64_t flows_skipped() const noexcept { return flows_skipped_; }

  // What the writer holds per goroutine: the tracks (alive at the latest sample) and the runs
  // of goroutine ids met (those of the exited among them are remembered only as runs).
  std::size_t tracks_held() const noexcept { return tracks_.size(); }
  std::size_t id_runs_held() const noexcept { return met_.runs(); }

 private:
  struct segment {
    std::int64_t start_ns = 0;
    std::int64_t end_ns = 0;
    goroutine_state state = goroutine_state::runnable;
    wait_reason reason = wait_reason::none;
    std::uint32_t stack = 0;
    label_ptr labels;
    bool unsampled = false;  // between creation and a first sampled wait: running or runnable
  };
  // The spawn arrow into a goroutine, written with the child's first slice that starts after
  // its creation (DevTools binds flow events by timestamp, so both ends need distinct ones).
  struct spawn_flow {
    std::int64_t parent_pid = 0;
    std::uint64_t parent_id = 0;
    std::int64_t created_ns = 0;
  };
  struct track {
    std::uint64_t parent_id = 0;
    std::uint32_t site = 0;
    std::int64_t created_ns = 0;
    std::int64_t first_seen_ns = 0;
    std::int64_t origin_ns = -1;  // the first written slice's start; -1 before it
    std::vector<segment>
        segments;  // not written yet: closed by the latest sample, then the open one
    std::vector<spawn_flow> flow;  // at most one: the arrow into this goroutine, until written
    bool open = false;             // seen alive in the latest sample
    // add(sample_changes): the state counted for it while open. Its open slice's end_ns is
    // then only up to date when the track was touched in the latest sample: the slice goes on
    // to the latest sample's time otherwise.
    goroutine_state counted = goroutine_state::runnable;
  };
  struct counts {
    std::uint64_t running = 0, runnable = 0, waiting = 0;
  };

  // add()'s steps: the clock (returns the sample's time on it), one track's slices (and its
  // end when it closed: returns the next track), the counts.
  std::int64_t begin_sample(const symbol_tables& tables, std::int64_t time_ns);
  std::map<std::uint64_t, track>::iterator write_track(std::map<std::uint64_t, track>::iterator it,
                                                       std::int64_t now);
  void end_sample(std::int64_t now, const counts& c);
  void observe(track& t, const goroutine_sample& g, std::int64_t now);
  // add(sample_changes)'s part: one created or changed goroutine, as add(sample) treats it.
  // g's track, made (and named, its first sighting listed in `fresh`) when g is new; null for
  // a goroutine that exited already (an id that comes back is not a new track).
  track* track_of(const symbol_tables& tables, const goroutine_sample& g, std::int64_t now,
                  std::vector<std::uint64_t>& fresh);
  void touch(const symbol_tables& tables, const goroutine_sample& g, std::int64_t now,
             std::vector<std::uint64_t>& fresh);
  bool simple(const sample_changes& c) const noexcept;
  void count(goroutine_state s, int by) noexcept;
  void start_flow(track& child);
  void write_segments(std::uint64_t id, track& t, bool all);
  void write_slice(std::uint64_t id, track& t, const segment& seg);
  void write_exit(std::uint64_t id, const track& t, std::int64_t at_ns);
  void write_thread_name(const symbol_tables& tables, std::uint64_t id, const track& t,
                         const goroutine_sample& g);
  void write_counts(std::int64_t end_ns);
  void event(std::string_view text);
  void flush();

  trace_sink sink_;
  std::string buffer_;
  const symbol_tables* tables_ = nullptr;  // of the add() or finish() being run
  std::map<std::uint64_t, track> tracks_;  // alive at the latest sample, by goroutine id
  id_run_set met_;  // ids that had a track: those with none now exited, and stay dead
  std::vector<std::uint32_t> sites_;  // spawn sites with a track, in order of appearance
  std::vector<bool> site_seen_;
  counts last_counts_;
  std::int64_t counts_origin_ns_ = -1;
  std::int64_t last_ns_ = 0;
  std::int64_t prev_ns_ = 0;  // the sample before the latest one
  std::uint64_t samples_ = 0;
  std::uint64_t flows_written_ = 0;
  std::uint64_t flows_skipped_ = 0;
  bool first_event_ = true;
  bool by_changes_ = true;              // add(sample_changes) has not fallen back to samples
  counts open_counts_;                  // add(sample_changes): open tracks by counted state
  std::vector<std::uint64_t> touched_;  // add(sample_changes): tracks to write, by id
};

// The whole timeline of `samples` as one JSON text (tests, the fuzz target).
std::string chrome_trace(const symbol_tables& tables, const std::vector<sample>& samples);

}  // namespace gprofid
