// The whole-recording view of a diff, built while streaming samples one at a time: per-goroutine
// lifecycles, per-spawn-site growth, and the findings a user must act on, each in its own capped
// list so that none hides another: deadlocks, leaks, stuck goroutines, growing sites,
// never-yielded goroutines, plus the background goroutines that are none of these.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "gprofid/analysis/diff.hpp"
#include "gprofid/analysis/sample_changes.hpp"
#include "gprofid/analysis/summary_live_lifecycle.hpp"
#include "gprofid/analysis/summary_live_set.hpp"
#include "gprofid/analysis/wait_graph.hpp"
#include "gprofid/recording/sample.hpp"
#include "gprofid/saturating.hpp"

namespace gprofid {

// What one goroutine did over the recording.
struct goroutine_lifecycle : lifecycle_state, lifecycle_extras {
  std::uint64_t first_seq = 0;
  std::uint64_t last_seq = 0;
  std::int64_t first_seen_ns = 0;
  std::int64_t last_seen_ns = 0;
  bool created_inside = false;  // absent from the first sample
  bool exited_inside = false;   // absent from the last sample
  std::int64_t gone_ns = 0;     // exited: the first sample it was missing from
  bool alive = true;

  // A lower bound: created -> last seen (first seen -> last seen when it predates the
  // recording). An exited goroutine ended somewhere before gone_ns: see lifetime_max_ns.
  std::int64_t lifetime_ns() const noexcept;
  // An upper bound for exited goroutines (created -> gone_ns), else lifetime_ns().
  std::int64_t lifetime_max_ns() const noexcept;
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
  // Least-squares slope of its live count over all samples, and over the later half: a leak
  // keeps growing to the end, a ramp-up flattens.
  double trend_per_s = 0;
  double late_trend_per_s = 0;
  bool growing = false;  // both trends > 0 and net growth >= the minimum
};

// The goroutine a finding names: its id, spawn site and labels, and the stack the finding saw.
struct goroutine_ref {
  std::uint64_t id = 0;
  std::uint32_t site = 0;
  label_ptr labels{};
  std::uint32_t stack = 0;
};

// A member of a deadlock cycle, as last seen in it.
struct deadlock_member : goroutine_ref {
  // Where the mutex it waits on was locked by its holder (the next member): 1 + a frame index,
  // 0 unknown (wait_object::locked_at).
  std::uint32_t locked_at = 0;
};

// A deadlock cycle as last seen, with when it was first seen.
struct deadlock_report {
  deadlock_cycle cycle;
  std::vector<deadlock_member> members;  // cycle.goroutines[i] is members[i]
  std::uint64_t first_seq = 0;
  std::int64_t first_time_ns = 0;
  std::uint64_t last_seq = 0;
};

// Leaked goroutines of one spawn site, alive at the end, with what proves each can never run.
struct leak_report {
  std::uint32_t site = 0;
  std::vector<std::uint64_t> goroutines;  // by id
  std::uint64_t nil_waits = 0;            // proven by leak_rule::nil_wait
  std::uint64_t closed_set = 0;           // proven by leak_rule::closed_set
  std::uint64_t channels = 0;             // channels they wait on (closed_set)
  std::uint64_t handles = 0;              // handles to those, all held inside the leaked set
  std::int64_t first_proven_ns = 0;
};

// A goroutine in one continuing wait for at least the stuck threshold (stack: of that wait).
struct stuck_report : goroutine_ref {
  wait_reason reason = wait_reason::none;
  std::int64_t stuck_ns = 0;
  std::int64_t since_ns = 0;
  std::uint32_t samples = 0;
  bool ongoing = false;  // still in that wait at the end
};

struct never_yielded_report : goroutine_ref {
  std::uint32_t samples = 0;
  std::int64_t duration_ns = 0;
};

// Long-lived goroutines parked in a service wait (accept, an idle connection, a stop or ticker
// channel, main waiting for its workers), grouped by site and wait: listed once, never stuck.
struct background_group {
  std::uint32_t site = 0;
  wait_reason reason = wait_reason::none;
  std::uint32_t stack = 0;  // of the first of them
  std::vector<std::uint64_t> goroutines;
};

// A goroutine parked on an object ready for it (stack: of that wait).
struct lost_wakeup_report : goroutine_ref {
  std::uint64_t object = 0;
  std::uint32_t samples = 0;  // consecutive samples, not resumed in between
  std::string why;
};

// How many entries each capped list left out.
struct omitted_counts {
  std::uint64_t deadlocks = 0;
  std::uint64_t leaks = 0;
  std::uint64_t stuck = 0;
  std::uint64_t growing = 0;
  std::uint64_t never_yielded = 0;
  std::uint64_t background = 0;
  std::uint64_t lost_wakeups = 0;
};

struct summary_options {
  std::size_t top = 10;  // entries per list (0: all)
  // A continuing wait at least this long is stuck; 0: max(1 s, 3 sampling intervals).
  std::int64_t stuck_ns = 0;
  std::int64_t never_yielded_ns = 100'000'000;  // a shorter hog is the OS, not the program
  std::int64_t min_growth = 3;                  // a growing site gained at least this many
  // How many lifecycles diff_summary::goroutines holds: the first this many by id (all by
  // default). A streaming consumer (summary_builder::stream_goroutines) keeps none, text the
  // rows it prints: then the summary holds the live goroutines and a few capped lists only.
  std::size_t keep_goroutines = std::numeric_limits<std::size_t>::max();
};

struct summary_warning {
  enum class kind : std::uint8_t { never_yielded, site_growing, lost_wakeup, leak_disproved };
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
  std::uint64_t created = 0;  // first seen after the first sample
  std::uint64_t exited = 0;   // gone before the last sample
  // The first summary_options::keep_goroutines lifecycles by id, with timelines if followed;
  // goroutines_listed counts them all (streamed ones included).
  std::vector<goroutine_lifecycle> goroutines;
  std::uint64_t goroutines_listed = 0;
  bool followed = false;                           // --id or --label given: timelines kept
  std::vector<site_growth> sites;                  // leaking first
  std::vector<goroutine_lifecycle> longest_stuck;  // every long continuing wait, longest first
  std::vector<summary_warning> warnings;
  // The findings, most urgent first; each list capped at summary_options::top.
  std::vector<deadlock_report> deadlocks;
  std::vector<leak_report> leaks;      // most goroutines first
  std::vector<stuck_report> stuck;     // longest first
  std::vector<std::uint32_t> growing;  // sites (indices into the tables), fastest first
  std::vector<never_yielded_report> never_yielded;
  std::vector<background_group> background;
  std::vector<lost_wakeup_report> lost_wakeups;
  omitted_counts omitted;
  std::int64_t stuck_threshold_ns = 0;  // what "stuck" meant for this summary
  std::int64_t interval_ns = 0;         // median gap between samples
};

// Where a summary's lifecycles go as each becomes final (summary_builder::stream_goroutines):
// an exited goroutine's at the sample it is first missing from (in id order within a sample),
// the others' at finish() in id order. `followed`: --id / --label were given (timelines kept).
using lifecycle_sink =
    std::function<void(const goroutine_lifecycle&, bool followed, const symbol_tables&)>;

// Consumes a recording's samples in order. Holds the live goroutines' state, never a sample: a
// goroutine that exits is folded into per-site counts and capped candidate lists (and handed to
// the sink) and dropped, so memory follows the live set, not every goroutine ever seen.
class summary_builder {
 public:
  explicit summary_builder(goroutine_filter filter = {}, std::size_t top_stuck = 10)
      : filter_(std::move(filter)), top_stuck_(top_stuck) {
    options_.top = top_stuck;
  }
  summary_builder(goroutine_filter filter, summary_options options)
      : filter_(std::move(filter)), top_stuck_(options.top ? options.top : 10), options_(options) {}

  // `tables` covers `s` (the recording's tables as of this sample).
  void add(const sample& s, const symbol_tables& tables);
  // The same sample given as what changed since the previous one (recording_reader::
  // next_changes), in work proportional to the changes: a goroutine that did not change is
  // brought up to date only when something needs it, at once for all the samples it skipped.
  // `whole` fills in the whole sample; it is called only for a sample whose wait-for graph
  // can prove something (it has objects, or a goroutine waits on a nil channel). The result is
  // the same as add(sample) of every sample; one builder takes one kind of input. A sample in
  // pieces (sample_changes::more) is added piece by piece and counts once.
  void add(const sample_changes& c, const symbol_tables& tables,
           const std::function<void(sample&)>& whole);
  diff_summary finish();
  // Every reported lifecycle goes to `sink` when it is final (see lifecycle_sink), besides the
  // ones summary_options::keep_goroutines keeps.
  void stream_goroutines(lifecycle_sink sink) { sink_ = std::move(sink); }
  // Lifecycles held now: the live goroutines' plus those kept for the lists. With
  // keep_goroutines small this stays near the live count however many goroutines exited.
  std::size_t retained() const noexcept;

 private:
  struct instant {
    std::uint64_t seq = 0;
    std::int64_t time_ns = 0;
    std::uint64_t index = 0;  // 1 for the first sample added, 2 for the next...
  };
  void begin_sample(const instant& at);
  void update(live_lifecycle& l, const goroutine_sample& g, const instant& at);
  void note_gone(goroutine_lifecycle& l, const instant& at);
  live_lifecycle start(const goroutine_sample& g, const instant& at);
  live_lifecycle* find(std::uint64_t id);
  // The whole lifecycle of a live goroutine as of its last sample. `final`: it is being dropped,
  // so its timeline is moved out rather than copied.
  goroutine_lifecycle lifecycle_of(live_lifecycle& l, bool final);
  // `l`'s side table entry: null if it has none; extras_for makes one.
  const lifecycle_extras* extras_of(const live_lifecycle& l) const noexcept {
    return l.extras == live_lifecycle::no_extras ? nullptr : &extras_[l.extras];
  }
  lifecycle_extras& extras_for(live_lifecycle& l);
  void note_graph(const sample& s);
  void count_sites(std::vector<std::uint64_t> alive, bool first);
  // Folds a goroutine gone at `at` into the totals and the capped lists, then drops it.
  void retire(std::uint64_t id, const instant& at);
  bool listed(const goroutine_lifecycle& l) const;
  // The stuck threshold when the options fix it (0: it depends on the median interval).
  std::int64_t fixed_stuck_ns() const noexcept;
  // Changes (summary_changes.cpp): applies the samples up to `index` in which `l` did not
  // change.
  void catch_up(live_lifecycle& l, std::uint64_t index);
  // At finish (summary_findings.cpp): growth trends of the sites, then the findings.
  void trends(diff_summary& out);
  void classify(diff_summary& out, const std::vector<live_lifecycle*>& live);

  goroutine_filter filter_;
  std::size_t top_stuck_;
  summary_options options_;
  bool follow_ = false;
  const symbol_tables* tables_ = nullptr;
  diff_summary out_;
  summary_live_set<live_lifecycle> live_;  // tracked and alive, by id
  std::vector<lifecycle_extras> extras_;   // live_lifecycle::extras, for the few that have them
  std::vector<std::uint32_t> free_extras_;
  lifecycle_sink sink_;
  // Exited goroutines, folded (summary_retired.cpp): what finish() needs of them.
  struct retired_state {
    std::uint64_t seen = 0, created = 0, alive_start = 0;
    std::vector<std::uint64_t> site_created, site_exited;
    std::vector<summary_warning> never_yielded_warnings;  // every one: warnings lists them all
    std::vector<goroutine_lifecycle> longest_stuck;       // the best top_stuck_ so far
    std::vector<never_yielded_report> never_yielded;      // the best options_.top so far
    std::uint64_t never_yielded_count = 0;
    std::vector<stuck_report> stuck;  // the best options_.top so far, stuck_ns >= stuck_floor
    // With the threshold known from the options, how many reach it; else (it depends on the
    // median interval, known at the end) the stuck_ns of each that reaches 1 s.
    std::uint64_t stuck_count = 0;
    std::vector<std::int64_t> stuck_ns;
    std::vector<goroutine_lifecycle> kept;  // the first keep_goroutines by id so far
    std::uint64_t listed = 0;
  };
  retired_state retired_;
  std::vector<std::uint64_t> site_alive_;  // per site, in the last sample
  std::vector<std::uint64_t> site_alive_start_;
  std::vector<std::uint8_t> site_grew_;  // 1 while the site grew in every window so far
  std::uint64_t windows_ = 0;
  std::vector<std::int64_t> times_;  // every sample's time, for trends
  std::vector<std::uint64_t> seqs_;  // every sample's seq, for catch_up
  // The last sample whose time is not after the one before, or too large for catch_up's
  // arithmetic to be exact without saturating: catch_up goes sample by sample across it.
  std::uint64_t last_irregular_ = 0;
  std::vector<std::uint64_t> site_live_;  // changes: tracked goroutines alive, per site
  std::uint64_t nil_waits_ = 0;           // changes: goroutines of the sample in a nil wait
  bool in_pieces_ = false;                // changes: the last add() was a piece (`more`)
  sample whole_;                          // changes: the sample, when the graph needs it
  std::vector<std::vector<std::uint32_t>> site_counts_;  // per site, live count per sample
  std::vector<deadlock_report> cycles_;
};

}  // namespace gprofid
