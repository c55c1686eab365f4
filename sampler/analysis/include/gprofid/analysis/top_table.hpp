// The goroutine table of `gprof-id top` for one sample: a row per goroutine with what it did
// since the previous sample (busy share, resumes), sorted once per sample and filtered without
// re-sorting, so that a screen only reads the rows it shows (docs/top.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gprofid/analysis/diff.hpp"
#include "gprofid/recording/sample.hpp"

namespace gprofid {

enum class top_column : std::uint8_t { id, parent, state, wait, busy, resumes, labels, site };
inline constexpr std::size_t top_column_count = 8;
std::string_view to_string(top_column c) noexcept;

struct top_row {
  const goroutine_sample* g = nullptr;  // into the sample the table was built from
  // Share of the time since the previous sample it spent running (running_ns delta over the
  // time delta; for a goroutine created in between, over its life), in [0, 1]; -1: unknown
  // (the first sample).
  double busy = -1;
  std::uint64_t resumes_delta = 0;  // resumes since the previous sample (all of them if new)
  bool created = false;             // absent from the previous sample
};

// What the filter prompt accepts: space-separated terms, all of which must match.
//   state=S      a state (running, runnable, waiting) or a wait reason (chan_receive, sleep...)
//   label=K=V    the label K has the value V
//   site=TEXT    TEXT is part of the spawn site ("function file:line")
//   TEXT         the same as site=TEXT
struct top_filter {
  std::string text;        // as typed, for display; empty: everything
  goroutine_filter match;  // state, labels and site, as --state, --label and --site check them
};
// The filter `text` means, or an error message for the prompt ("unknown state \"x\"").
std::optional<top_filter> parse_top_filter(std::string_view text, std::string& error);

struct top_sort {
  top_column column = top_column::id;
  bool descending = false;
};
// The order a column sorts in when first chosen: the biggest first for numbers worth chasing
// (wait, busy, resumes), else ascending.
bool descending_by_default(top_column c) noexcept;

class top_table {
 public:
  // Rows for `now`; `before` is the sample preceding it (null for the first). Both must outlive
  // the table's use of the rows; `tables` must cover `now`. Sorts and filters once.
  void build(const sample* before, const sample& now, const symbol_tables& tables);
  void set_sort(top_sort s);
  void set_filter(top_filter f);
  const top_sort& sort() const noexcept { return sort_; }
  const top_filter& filter() const noexcept { return filter_; }

  // The rows that pass the filter, in sort order.
  std::size_t size() const noexcept { return view_.size(); }
  const top_row& operator[](std::size_t i) const noexcept { return rows_[view_[i]]; }
  // Every goroutine of the sample.
  std::size_t total() const noexcept { return rows_.size(); }
  // Where goroutine `id` is in the filtered order, if it passes the filter.
  std::optional<std::size_t> position_of(std::uint64_t id) const noexcept;
  // "worker(int) /src/w.cpp:12" for a spawn site index, formatted once per site.
  const std::string& site_text(std::uint32_t site) const;

 private:
  void order();
  void refilter();

  const symbol_tables* tables_ = nullptr;
  std::vector<top_row> rows_;                    // by id
  std::vector<std::uint32_t> order_;             // every row, sorted
  std::vector<std::uint32_t> view_;              // the rows of order_ that pass the filter
  mutable std::vector<std::string> site_texts_;  // by site index; tables only grow
  std::vector<std::uint32_t> site_rank_;         // by site index, while sorting by site
  top_sort sort_;
  top_filter filter_;
};

}  // namespace gprofid
