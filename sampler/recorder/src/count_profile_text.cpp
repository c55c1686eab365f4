#include "gprofid/recorder/count_profile_text.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <vector>

#include "gprofid/recording/json_text.hpp"

namespace gprofid {
namespace {

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%#" PRIx64, v);
  return v == 0 ? "0x0" : buf;
}

// `{"k":"v","k2":"v2"}` as Go prints a label map (keys sorted), or "" without labels.
std::string labels_text(const label_ptr& labels) {
  if (!labels || labels->empty()) return {};
  std::string out = "{";
  for (const auto& [k, v] : *labels) {
    if (out.size() > 1) out += ',';
    append_json_string(out, k);
    out += ':';
    append_json_string(out, v);
  }
  return out + '}';
}

}  // namespace

std::string format_count_profile(const sample& s, const symbol_tables& tables,
                                 std::string_view profile_name) {
  // Go's key is the "@ pcs" line plus the labels line; identical stacks share a stack index.
  std::map<std::pair<std::uint32_t, std::string>, std::size_t> counts;
  for (const goroutine_sample& g : s.goroutines) ++counts[{g.stack, labels_text(g.labels)}];
  struct entry {
    std::size_t count;
    std::string key;  // "@ ..." and the labels line
    std::uint32_t stack;
  };
  std::vector<entry> entries;
  for (const auto& [k, n] : counts) {
    std::string key = "@";
    for (std::uint32_t f : tables.stacks.at(k.first)) key += ' ' + hex(tables.frames.at(f).pc);
    if (!k.second.empty()) key += "\n# labels: " + k.second;
    entries.push_back({n, std::move(key), k.first});
  }
  std::sort(entries.begin(), entries.end(), [](const entry& a, const entry& b) {
    return a.count != b.count ? a.count > b.count : a.key < b.key;
  });
  std::string out =
      std::string(profile_name) + " profile: total " + std::to_string(s.goroutines.size()) + "\n";
  for (const entry& e : entries) {
    out += std::to_string(e.count) + ' ' + e.key + '\n';
    for (std::uint32_t f : tables.stacks.at(e.stack)) {
      const code_location& loc = tables.frames.at(f);
      out += "#\t" + hex(loc.pc) + '\t' + loc.function + '\t' + loc.file + ':' +
             std::to_string(loc.line) + '\n';
    }
    out += '\n';
  }
  return out;
}

}  // namespace gprofid
