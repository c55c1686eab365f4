// Human-readable diff output: a header per sample pair, +/-/~ sections with aligned columns,
// Go-traceback stacks grouped panicparse-style, and the whole-recording summary.
#pragma once

#include <cstddef>
#include <ostream>

#include "gprofid/analysis/diff.hpp"
#include "gprofid/analysis/diff_summary.hpp"

namespace gprofid {

struct text_options {
  bool color = false;         // ANSI colours (terminals, --color always)
  std::size_t max_rows = 50;  // per section; 0: no limit
};

void write_pair_text(std::ostream& out, const pair_diff& d, const symbol_tables& tables,
                     const text_options& opt = {});

// The findings of a summary, most urgent first (deadlocks, leaks, stuck, growing sites, never
// yielded, lost wake-ups, background), each list saying how many it left out.
void write_findings_text(std::ostream& out, const diff_summary& s, const symbol_tables& tables,
                         const text_options& opt);

void write_summary_text(std::ostream& out, const diff_summary& s, const symbol_tables& tables,
                        const text_options& opt = {});

}  // namespace gprofid
