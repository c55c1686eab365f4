// Machine-readable diff output (docs/diff-format.md, docs/diff.schema.json): one versioned JSON
// document, or JSON Lines with one object per pair then the summary, written as they come.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gprofid/analysis/diff.hpp"
#include "gprofid/analysis/diff_summary.hpp"

namespace gprofid {

namespace diff_format {
inline constexpr std::string_view name = "gprof-id-diff";
// 2: the summary's `goroutines` come first in it, each lifecycle as it became final (exited ones
// at the sample they were first missing from, then the rest by id), so that it streams.
inline constexpr int version = 2;
}  // namespace diff_format

// One input recording, as named in the output's "inputs".
struct diff_input {
  std::string path;
  std::int64_t pid = 0;
  std::string start_wall;
  std::string workload;
};

// A pair of the JSON diff written to `out` as it is made, without building a document (for a
// pair of 100k goroutines with their stacks, hundreds of MB of nodes); as compact as nlohmann's
// dump(), with its escapes.
void write_pair_json(std::ostream& out, const pair_diff& d, const symbol_tables& tables);
// That text as a document, for tests and tools that inspect one pair.
nlohmann::ordered_json pair_to_json(const pair_diff& d, const symbol_tables& tables);

// The summary with s.goroutines as its lifecycles, as diff_json_writer writes it.
nlohmann::ordered_json summary_to_json(const diff_summary& s, const symbol_tables& tables);

namespace summary_json {
class site_cache;
}

// Streams pairs and the summary as one document ("json") or one object a line ("jsonl"). The
// summary's lifecycles are written one at a time as they come (summary_goroutine, fed by
// summary_builder::stream_goroutines), then the rest of it (summary): nothing holds the whole
// document.
class diff_json_writer {
 public:
  diff_json_writer(std::ostream& out, bool lines, const std::vector<diff_input>& inputs);
  ~diff_json_writer();
  void pair(const pair_diff& d, const symbol_tables& tables);
  // No pair comes any more: the summary starts, and its lifecycles go out as they come.
  // Without it they wait in a temporary file until summary(), after the pairs.
  void begin_summary();
  // One lifecycle of the summary's `goroutines` (a summary_builder's lifecycle_sink).
  void summary_goroutine(const goroutine_lifecycle& l, bool followed, const symbol_tables& tables);
  // The rest of the summary: s.goroutines after the lifecycles already given, then every other
  // field.
  void summary(const diff_summary& s, const symbol_tables& tables);
  // Closes the document (json); without a summary, "summary" is null.
  void finish();

 private:
  void open();
  void open_summary();
  void flush_goroutines();
  std::ostream& out_;
  bool lines_;
  std::unique_ptr<summary_json::site_cache> sites_;
  std::string head_;    // the document's head, until open() writes it
  std::string buffer_;  // summary text not yet written
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> spill_{nullptr, &std::fclose};
  bool head_written_ = false;
  bool summary_streams_ = false;  // begin_summary called: lifecycles go to out_, not the spill
  bool summary_open_ = false;     // its `goroutines` array begun on out_
  bool any_goroutine_ = false;
  bool any_pair_ = false;
  bool summary_done_ = false;
  bool finished_ = false;
};

}  // namespace gprofid
