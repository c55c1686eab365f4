// The diff engine: joins two samples by goroutine ID (a merge join over id-sorted samples) and
// reports what was created, exited, changed state or stack, and what stayed stuck.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gprofid/recording/sample.hpp"

namespace gprofid {

// Which goroutines a report covers (--id, --label, --site, --state, --min-stuck). An empty
// filter matches everything. Checking a site caches its verdict per site index, hence mutable.
class goroutine_filter {
 public:
  std::vector<std::uint64_t> ids;                           // any of these; empty: any id
  std::vector<std::pair<std::string, std::string>> labels;  // all of these key=value
  std::string site;                                         // substring of "function file:line"
  std::optional<goroutine_state> state;
  std::optional<wait_reason> reason;  // --state accepts a wait reason too ("chan receive")
  std::int64_t min_stuck_ns = 0;      // only goroutines stuck at least this long

  // The parts that do not depend on time: id, labels, spawn site.
  bool matches_identity(const goroutine_sample& g, const symbol_tables& tables) const;
  bool matches_state(const goroutine_sample& g) const noexcept;
  bool matches(const goroutine_sample& g, const symbol_tables& tables) const {
    return matches_identity(g, tables) && matches_state(g);
  }
  bool has_identity() const noexcept { return !ids.empty() || !labels.empty() || !site.empty(); }

  // Parses "running", "waiting", "chan receive", "sync.Mutex.Lock" or a reason's enum-like
  // spelling ("mutex_lock"); false when unknown.
  bool set_state(std::string_view text);

 private:
  mutable std::vector<std::int8_t> site_verdicts_;  // -1 unknown, 0 no, 1 yes; by site index
};

// A goroutine present in both samples whose state or stack differs.
struct goroutine_change {
  const goroutine_sample* before;
  const goroutine_sample* after;
};

// A goroutine in one continuing wait across consecutive samples (wait_continues: it did not run
// in between).
struct stuck_goroutine {
  const goroutine_sample* g;     // as in the later sample
  std::uint32_t samples = 0;     // consecutive samples it was seen so, >= 2
  std::int64_t since_ns = 0;     // time of the first of those samples
  std::int64_t duration_ns = 0;  // max(later time - since_ns, g.wait_ns)
  // The first pair to report it: its run began at the earlier sample, or it just reached
  // --min-stuck. A wait that continues is not a change, so text lists it only here.
  bool is_new = true;
};

struct pair_counts {
  std::uint64_t before = 0;  // goroutines (matching the filter) in the earlier sample
  std::uint64_t after = 0;
  std::uint64_t created = 0;
  std::uint64_t exited = 0;
  std::uint64_t state_changed = 0;
  std::uint64_t stack_changed = 0;
  std::uint64_t stuck = 0;
  std::uint64_t never_yielded = 0;
};

// What changed between two samples, every list sorted by id. Entries point into the two
// samples, which must outlive it: a million-goroutine diff copies no goroutine.
struct pair_diff {
  const sample* before = nullptr;  // the two samples (their wait-for graphs, for reports)
  const sample* after = nullptr;
  std::uint64_t from_seq = 0;
  std::uint64_t to_seq = 0;
  std::int64_t from_time_ns = 0;
  std::int64_t to_time_ns = 0;
  std::vector<const goroutine_sample*> created;  // in the later sample only
  std::vector<const goroutine_sample*>
      exited;  // in the earlier sample only (last seen at from_time_ns)
  std::vector<goroutine_change> state_changes;  // state or wait reason differs
  std::vector<goroutine_change> stack_changes;  // logical stack differs
  std::vector<stuck_goroutine> stuck;
  std::vector<goroutine_change> never_yielded;  // running in both, resumes counter unchanged
  pair_counts counts;
};

// Whether two stack indices denote the same frames (indices are interned, but a table built by
// hand may hold duplicates).
bool same_stack(const symbol_tables& tables, std::uint32_t a, std::uint32_t b) noexcept;

// Diffs consecutive samples of one recording, carrying each goroutine's stuck run from pair to
// pair. Holds only the stuck runs of the last sample, never the samples themselves.
class diff_engine {
 public:
  explicit diff_engine(goroutine_filter filter = {}) : filter_(std::move(filter)) {}

  // `before` must precede `after`; when `before` is not the previous call's `after`, runs restart.
  // `tables` must cover both samples (recording tables only grow).
  pair_diff next(const sample& before, const sample& after, const symbol_tables& tables);

  const goroutine_filter& filter() const noexcept { return filter_; }

 private:
  bool has_identity_or_state() const noexcept;
  struct stuck_run {
    std::uint64_t id;
    std::uint32_t samples;
    std::int64_t since_ns;
  };
  goroutine_filter filter_;
  std::vector<stuck_run> runs_;  // sorted by id
  std::optional<std::uint64_t> last_seq_;
};

// One pair, with no history: stuck runs start at the earlier sample.
pair_diff diff_samples(const sample& before, const sample& after, const symbol_tables& tables,
                       const goroutine_filter& filter = {});

// Re-expresses `s` (indexing `src`) against `dst`, interning its sites, frames and stacks there:
// lets two recordings' samples be diffed against one table.
sample import_sample(const sample& s, const symbol_tables& src, symbol_tables& dst);

}  // namespace gprofid
