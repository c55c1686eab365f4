// Go-style text of a recorded sample (`gprof-id show`): debug=2 tracebacks, panicparse-like
// groups of identical stacks, and the parent -> child tree. Untrusted strings are escaped.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gprofid/analysis/wait_graph.hpp"
#include "gprofid/recording/sample.hpp"

namespace gprofid {

// "worker(int) /src/w.cpp:12", escaped; "?" for an index outside the tables.
std::string format_location(const code_location& loc);
std::string format_frame(const symbol_tables& tables, std::uint32_t frame);
// The innermost frame of a stack, or "(no frames)".
std::string format_top_frame(const symbol_tables& tables, std::uint32_t stack);

// "[chan receive, 3s]" / "[running]": the status in a goroutine header.
std::string format_status(const goroutine_sample& g);
// "{k=v, k2=v2}", escaped; "" when there are no labels.
std::string format_labels(const label_ptr& labels);
std::string format_labels(const label_set& labels);

// Frames as Go prints them, each line prefixed by `indent`: "f(int)\n\t/src/f.cpp:12\n".
std::string format_stack_text(const symbol_tables& tables, std::uint32_t stack,
                              std::string_view indent = {});
// "created by F in goroutine 1\n\tfile:line\n", or "" when the site is unknown.
std::string format_created_by(const goroutine_sample& g, const symbol_tables& tables,
                              std::string_view indent = {});

// A group of goroutines shown once (show --group, the diff's groups): what every member shares
// is printed once, what differs next to each member's id, so grouping loses no label or parent.
struct group_text {
  std::string labels;            // "{k=v}": labels every member has with the same value, or ""
  std::vector<std::string> own;  // per member, in order: its other labels ("{request=7}") or ""
  // "created by F in goroutine 1\n\tfile:line\n" when all have one parent; with several,
  // "in goroutines 4, 9, 12" (distinct, ascending, the first 10 and how many more); "" when the
  // site is unknown. The members share a spawn site.
  std::string created_by;
};
group_text format_group(const std::vector<const goroutine_sample*>& members,
                        const symbol_tables& tables, std::string_view indent = {});

// One goroutine as debug=2 prints it: header, labels, frames, created by. `mark` follows the
// status in the header (e.g. " (leaked)"); `waits_on`, when not empty, is a line of its own
// after the labels ("waits on: fd 7 (read)").
std::string format_goroutine_text(const goroutine_sample& g, const symbol_tables& tables,
                                  std::string_view indent = {}, std::string_view mark = {},
                                  std::string_view waits_on = {});

// The timer or descriptor a goroutine is parked on, from the sample's wait-for graph: "timer,
// fires in 80ms", "timer, due 2ms ago", "fd 7 (read)", "timer channel, fires in 1s, every 1s",
// "select with a timer case, fires in 5ms"; "" for any other wait. Times are the timer's
// deadline against the sample's time (with a manual timer clock they are not comparable).
std::string format_wait_detail(const sample& s, const goroutine_sample& g);

// What the sample's wait-for graph proves about a goroutine, as a header mark:
// " (deadlocked: waits on a mutex held by goroutine 7, locked at f() file.cpp:12)", " (leaked)",
// " (blocked behind a deadlock)", or "". `d` is diagnose(s).
std::string format_verdict(const wait_diagnosis& d, const sample& s, const symbol_tables& tables,
                           std::uint64_t id);

// Every goroutine of the sample, blank-line separated, leaked and deadlocked ones marked.
std::string format_goroutine_dump(const sample& s, const symbol_tables& tables);

// Goroutines with the same state, wait reason, stack and spawn site merged into one entry:
// "3 goroutines [chan receive, 1s~3s]: 4, 7, 9" then the shared stack; largest group first.
std::string format_grouped_dump(const sample& s, const symbol_tables& tables);

// The parent -> child tree; goroutines whose parent is not in the sample are roots.
std::string format_goroutine_tree(const sample& s, const symbol_tables& tables);

}  // namespace gprofid
