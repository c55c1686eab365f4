#include "gprofid/recorder/pprof_goroutine.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gprofid/recording/wait_graph.hpp"
#include "proto_wire.hpp"

namespace gprofid {
namespace {

using proto_wire::message;

// profile.proto's field numbers (github.com/google/pprof/proto/profile.proto).
namespace profile_field {
constexpr std::uint32_t sample_type = 1, sample = 2, mapping = 3, location = 4, function = 5,
                        string_table = 6, time_nanos = 9, period_type = 11, period = 12,
                        comment = 13;
}

// Strings are indices into one table whose entry 0 is "". Indices are handed out in the order
// the offline exporter asks for them, so that both write the same table.
class string_table {
 public:
  string_table() { index(""); }
  std::int64_t index(std::string_view s) {
    auto [it, inserted] = indices_.try_emplace(std::string(s), strings_.size());
    if (inserted) strings_.push_back(&it->first);
    return static_cast<std::int64_t>(it->second);
  }
  void write(message& profile) const {
    for (const std::string* s : strings_) profile.bytes(profile_field::string_table, *s);
  }

 private:
  std::unordered_map<std::string, std::size_t> indices_;
  std::vector<const std::string*> strings_;  // point into indices_' keys (stable)
};

struct label {
  std::int64_t key = 0, str = 0, num = 0, num_unit = 0;
};

struct pprof_sample {
  std::vector<std::uint64_t> location_ids;
  std::vector<label> labels;
};

// Locations (one per frame entry of the tables) and functions (one per name and file), created
// on first use, in the same order as the exporter's location_table.
class location_table {
 public:
  location_table(string_table& strings, const symbol_tables& tables)
      : strings_(strings), tables_(tables) {}

  std::uint64_t location(std::uint32_t frame_index) {
    auto [it, inserted] = ids_.try_emplace(frame_index, ids_.size() + 1);
    if (!inserted) return it->second;
    const code_location& f = tables_.frames.at(frame_index);
    message line;
    line.varint(1, function(f));  // Line.function_id
    line.varint(2, static_cast<std::int64_t>(f.line));
    message loc;
    loc.varint(1, it->second);        // Location.id
    loc.varint(2, std::uint64_t{1});  // Location.mapping_id
    loc.varint(3, f.pc);              // Location.address
    loc.nested(4, line);              // Location.line
    locations_.push_back(loc.take());
    if (f.pc != 0) {
      low_pc_ = std::min(low_pc_, f.pc);
      high_pc_ = std::max(high_pc_, f.pc);
    }
    return it->second;
  }

  // The one mapping, marked fully symbolised so pprof never looks for the binary. Interns the
  // program's name: the last string the exporter adds to the table.
  void add_mapping(std::string_view program) {
    message m;
    m.varint(1, std::uint64_t{1});  // Mapping.id
    if (low_pc_ <= high_pc_) {
      m.varint(2, low_pc_);       // memory_start
      m.varint(3, high_pc_ + 1);  // memory_limit
    }
    m.varint(5, strings_.index(program.empty() ? std::string_view("unknown") : program));
    m.varint(7, std::uint64_t{1});  // has_functions
    m.varint(8, std::uint64_t{1});  // has_filenames
    m.varint(9, std::uint64_t{1});  // has_line_numbers
    mapping_ = m.take();
  }

  // Profile fields 3, 4 and 5.
  void write(message& profile) const {
    profile.bytes(profile_field::mapping, mapping_);
    for (const std::string& l : locations_) profile.bytes(profile_field::location, l);
    for (const std::string& f : functions_) profile.bytes(profile_field::function, f);
  }

 private:
  std::uint64_t function(const code_location& f) {
    auto [it, inserted] = function_ids_.try_emplace({f.function, f.file}, function_ids_.size() + 1);
    if (inserted) {
      message fn;
      fn.varint(1, it->second);                  // Function.id
      fn.varint(2, strings_.index(f.function));  // name; no system_name, as the exporter
      fn.varint(4, strings_.index(f.file));      // filename
      functions_.push_back(fn.take());
    }
    return it->second;
  }

  string_table& strings_;
  const symbol_tables& tables_;
  std::unordered_map<std::uint32_t, std::uint64_t> ids_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> function_ids_;
  std::vector<std::string> locations_, functions_;
  std::string mapping_;
  std::uint64_t low_pc_ = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t high_pc_ = 0;
};

std::string site_text(const code_location& site) {
  return site.function + ' ' + site.file + ':' + std::to_string(site.line);
}

void write_value_type(message& profile, std::uint32_t field, std::int64_t type, std::int64_t unit) {
  message vt;
  vt.varint(1, type);
  vt.varint(2, unit);
  profile.nested(field, vt);
}

enum class profile_kind { goroutine, goroutineleak };

std::string encode(const symbol_tables& tables, const sample& s, const pprof_source& source,
                   profile_kind kind) {
  string_table strings;
  location_table locations(strings, tables);
  const bool leaks = kind == profile_kind::goroutineleak;
  const wait_diagnosis diagnosis = leaks ? diagnose(s) : wait_diagnosis{};
  // Go's goroutine profile: sample type and period type goroutine/count, period 1; its
  // goroutineleak profile the same named goroutineleak.
  const std::int64_t type = strings.index(leaks ? "goroutineleak" : "goroutine");
  const std::int64_t unit = strings.index("count");
  std::vector<std::int64_t> comments{strings.index("gprof-id sample " + std::to_string(s.seq) +
                                                   " at +" + std::to_string(s.time_ns) + "ns")};
  if (!source.command_line.empty()) comments.push_back(strings.index(source.command_line));

  const auto str_label = [&](pprof_sample& out, std::string_view key, std::string_view value) {
    out.labels.push_back({.key = strings.index(key), .str = strings.index(value)});
  };
  // A unit on every numeric label: pprof drops a unitless 0 (see export_pprof.cpp).
  const auto num_label = [&](pprof_sample& out, std::string_view key, std::int64_t value,
                             std::string_view num_unit) {
    const std::int64_t k = strings.index(key);
    out.labels.push_back({.key = k, .num = value, .num_unit = strings.index(num_unit)});
  };
  std::vector<pprof_sample> samples;
  samples.reserve(s.goroutines.size());
  for (const goroutine_sample& g : s.goroutines) {
    const leaked_goroutine* leak = leaks ? diagnosis.leak_of(g.id) : nullptr;
    if (leaks && !leak) continue;
    pprof_sample& out = samples.emplace_back();
    for (std::uint32_t frame : tables.stacks.at(g.stack)) {
      out.location_ids.push_back(locations.location(frame));
    }
    str_label(out, "state", to_string(g.state));
    if (g.state == goroutine_state::waiting && g.reason != wait_reason::none) {
      str_label(out, "wait_reason", to_string(g.reason));
    }
    str_label(out, "gopc", site_text(tables.sites.at(g.site)));
    if (leak) {
      str_label(out, "leak_rule", to_string(leak->rule));
      if (g.blocked_on != 0) str_label(out, "blocked_on", object_id_text(g.blocked_on));
    }
    if (g.labels) {
      for (const auto& [key, value] : *g.labels) str_label(out, key, value);
    }
    num_label(out, "goid", static_cast<std::int64_t>(g.id), "goid");
    num_label(out, "parent_goid", static_cast<std::int64_t>(g.parent_id), "parent_goid");
    if (g.state == goroutine_state::waiting) num_label(out, "wait_ns", g.wait_ns, "nanoseconds");
  }

  locations.add_mapping(source.program);

  // libprotobuf writes fields in field-number order; so do we.
  message profile;
  write_value_type(profile, profile_field::sample_type, type, unit);
  for (const pprof_sample& ps : samples) {
    message m;
    m.packed(1, ps.location_ids);               // Sample.location_id
    m.packed(2, std::vector<std::int64_t>{1});  // Sample.value
    for (const label& l : ps.labels) {
      message lm;
      lm.varint(1, l.key);
      lm.varint(2, l.str);
      lm.varint(3, l.num);
      lm.varint(4, l.num_unit);
      m.nested(3, lm);  // Sample.label
    }
    profile.nested(profile_field::sample, m);
  }
  locations.write(profile);
  strings.write(profile);
  if (source.start_unix_ns != 0)
    profile.varint(profile_field::time_nanos, source.start_unix_ns + s.time_ns);
  write_value_type(profile, profile_field::period_type, type, unit);
  profile.varint(profile_field::period, std::int64_t{1});
  profile.packed(profile_field::comment, comments);
  return profile.take();
}

}  // namespace

std::string encode_pprof_goroutine_profile(const symbol_tables& tables, const sample& s,
                                           const pprof_source& source) {
  return encode(tables, s, source, profile_kind::goroutine);
}

std::string encode_pprof_goroutineleak_profile(const symbol_tables& tables, const sample& s,
                                               const pprof_source& source) {
  return encode(tables, s, source, profile_kind::goroutineleak);
}

}  // namespace gprofid
