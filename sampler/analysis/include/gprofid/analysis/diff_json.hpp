// Machine-readable diff output (docs/diff-format.md, docs/diff.schema.json): one versioned JSON
// document, or JSON Lines with one object per pair then the summary, written as they come.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gprofid/analysis/diff.hpp"
#include "gprofid/analysis/diff_summary.hpp"

namespace gprofid {

namespace diff_format {
inline constexpr std::string_view name = "gprof-id-diff";
inline constexpr int version = 1;
}  // namespace diff_format

// One input recording, as named in the output's "inputs".
struct diff_input {
  std::string path;
  std::int64_t pid = 0;
  std::string start_wall;
  std::string workload;
};

nlohmann::ordered_json pair_to_json(const pair_diff& d, const symbol_tables& tables);
nlohmann::ordered_json summary_to_json(const diff_summary& s, const symbol_tables& tables);

// Streams pairs and the summary as one document ("json") or one object a line ("jsonl").
class diff_json_writer {
 public:
  diff_json_writer(std::ostream& out, bool lines, const std::vector<diff_input>& inputs);
  void pair(const pair_diff& d, const symbol_tables& tables);
  void summary(const diff_summary& s, const symbol_tables& tables);
  // Closes the document (json); without a summary, "summary" is null.
  void finish();

 private:
  void emit(const nlohmann::ordered_json& j);
  std::ostream& out_;
  bool lines_;
  bool any_pair_ = false;
  bool summary_done_ = false;
  bool finished_ = false;
};

}  // namespace gprofid
