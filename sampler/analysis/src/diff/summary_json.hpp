// The summary's JSON (docs/diff-format.md, SUMMARY) written as text as it goes, one lifecycle
// at a time, instead of as one document: a summary of a whole recording lists every goroutine.
// Private to the diff renderers (diff_json.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gprofid/analysis/diff_summary.hpp"

namespace gprofid::summary_json {

// Each spawn site's location as JSON text, escaped once: a site is named by thousands of
// lifecycles. Tables only grow, so an index keeps its text.
class site_cache {
 public:
  const std::string& site(const symbol_tables& t, std::uint32_t site);

 private:
  std::vector<std::string> text_;  // "" : not made yet
};

// One lifecycle object (`with_stack`: the stuck wait's stack too, as in longest_stuck).
void append_lifecycle(std::string& out, const goroutine_lifecycle& l, bool with_stack,
                      bool followed, const symbol_tables& t, site_cache& sites);

// Every field of a summary after `goroutines`, each preceded by a comma, from `samples` to
// `followed`.
void append_rest(std::string& out, const diff_summary& s, const symbol_tables& t,
                 site_cache& sites);

}  // namespace gprofid::summary_json
