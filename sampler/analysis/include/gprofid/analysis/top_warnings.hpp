// The warnings pane of `gprof-id top`: the summary's findings (docs/wait-graph.md; deadlocks,
// leaks, stuck, never yielded, lost wake-ups, growing sites) as one line each, plus a mark per
// goroutine for the table. The rules are the summary's (summary_builder); this only words them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gprofid/analysis/diff_summary.hpp"

namespace gprofid {

enum class top_mark : std::uint8_t { none, stuck, never_yielded, leaked, deadlocked };
// One letter for the table's mark column: "", "S", "Y", "L", "D".
std::string_view mark_letter(top_mark m) noexcept;

struct top_warning {
  top_mark kind = top_mark::none;  // none for a site that grows
  std::vector<std::uint64_t> goroutines;
  std::string text;  // one line, e.g. "deadlock: goroutines 3, 4 (mutex cycle) since +1s"
};

struct top_warnings {
  std::vector<top_warning> lines;  // most urgent first, as the summary orders them
  std::vector<std::pair<std::uint64_t, top_mark>> marks;  // by id; the most urgent per id
  std::int64_t stuck_threshold_ns = 0;

  top_mark mark_of(std::uint64_t id) const noexcept;
};

top_warnings make_top_warnings(const diff_summary& s, const symbol_tables& tables);

}  // namespace gprofid
