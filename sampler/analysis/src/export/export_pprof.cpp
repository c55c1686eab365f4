#include "gprofid/analysis/export_pprof.hpp"

#include <zlib.h>

#include <algorithm>
#include <limits>
#include <map>
#include <stdexcept>
#include <string_view>
#include <unordered_map>

#include "gprofid/analysis/wait_graph.hpp"
#include "gprofid/saturating.hpp"
#include "profile.pb.h"

namespace gprofid {
namespace {

namespace pb = perftools::profiles;

// pprof refers to every string by its index in one table; index 0 must be "".
class string_table {
 public:
  explicit string_table(pb::Profile& p) : profile_(p) { index(""); }

  std::int64_t index(std::string_view s) {
    auto [it, inserted] = indices_.try_emplace(std::string(s), indices_.size());
    if (inserted) profile_.add_string_table(it->first);
    return static_cast<std::int64_t>(it->second);
  }

 private:
  pb::Profile& profile_;
  std::unordered_map<std::string, std::size_t> indices_;
};

std::string site_text(const code_location& site) {
  std::string text = site.function;
  text += ' ';
  text += site.file;
  text += ':';
  text += std::to_string(site.line);
  return text;
}

// Locations (one per frame entry of the tables) and functions (one per name and file), created
// on first use so a profile carries only what its sample needs.
class location_table {
 public:
  location_table(pb::Profile& p, string_table& strings, const symbol_tables& tables)
      : profile_(p), strings_(strings), tables_(tables) {}

  std::uint64_t location(std::uint32_t frame_index) {
    auto [it, inserted] = locations_.try_emplace(frame_index, locations_.size() + 1);
    if (!inserted) return it->second;
    const code_location& f = tables_.frames.at(frame_index);
    auto* loc = profile_.add_location();
    loc->set_id(it->second);
    loc->set_mapping_id(1);
    loc->set_address(f.pc);
    auto* line = loc->add_line();
    line->set_function_id(function(f));
    line->set_line(f.line);
    if (f.pc != 0) {
      low_pc_ = std::min(low_pc_, f.pc);
      high_pc_ = std::max(high_pc_, f.pc);
    }
    return it->second;
  }

  // The one mapping every location belongs to. Marked fully symbolised so pprof never tries to
  // symbolise the addresses against a binary it does not have.
  void add_mapping(std::string_view program) {
    auto* m = profile_.add_mapping();
    m->set_id(1);
    if (low_pc_ <= high_pc_) {
      m->set_memory_start(low_pc_);
      m->set_memory_limit(saturating_add(high_pc_, std::uint64_t{1}));
    }
    m->set_filename(strings_.index(program.empty() ? std::string_view("unknown") : program));
    m->set_has_functions(true);
    m->set_has_filenames(true);
    m->set_has_line_numbers(true);
  }

 private:
  std::uint64_t function(const code_location& f) {
    auto [it, inserted] = functions_.try_emplace({f.function, f.file}, functions_.size() + 1);
    if (inserted) {
      auto* fn = profile_.add_function();
      fn->set_id(it->second);
      fn->set_name(strings_.index(f.function));
      // No system_name: pprof then takes `name` as already demangled and shows it in full
      // instead of stripping the parameter list.
      fn->set_filename(strings_.index(f.file));
    }
    return it->second;
  }

  pb::Profile& profile_;
  string_table& strings_;
  const symbol_tables& tables_;
  std::unordered_map<std::uint32_t, std::uint64_t> locations_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> functions_;
  std::uint64_t low_pc_ = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t high_pc_ = 0;
};

void add_string_label(pb::Sample& out, string_table& strings, std::string_view key,
                      std::string_view value) {
  auto* l = out.add_label();
  l->set_key(strings.index(key));
  l->set_str(strings.index(value));
}

// pprof drops a numeric label of value 0 that has no unit, so every one has a unit (for ids,
// their own key, the unit pprof would assume). A unit does not stop `-tagfocus goid=42`, whose
// unitless value matches any unit pprof cannot convert.
void add_number_label(pb::Sample& out, string_table& strings, std::string_view key,
                      std::int64_t value, std::string_view unit) {
  auto* l = out.add_label();
  l->set_key(strings.index(key));
  l->set_num(value);
  l->set_num_unit(strings.index(unit));
}

enum class profile_kind { goroutine, goroutineleak };

pb::Profile build_profile(const symbol_tables& tables, const sample& s, const pprof_source& source,
                          profile_kind kind) {
  pb::Profile p;
  string_table strings(p);
  location_table locations(p, strings, tables);
  const bool leaks = kind == profile_kind::goroutineleak;
  const wait_diagnosis diagnosis = leaks ? diagnose(s) : wait_diagnosis{};

  // Go's goroutine profile: sample type and period type goroutine/count, period 1; its
  // goroutineleak profile the same named goroutineleak.
  auto* type = p.add_sample_type();
  type->set_type(strings.index(leaks ? "goroutineleak" : "goroutine"));
  type->set_unit(strings.index("count"));
  p.mutable_period_type()->set_type(type->type());
  p.mutable_period_type()->set_unit(type->unit());
  p.set_period(1);
  if (source.start_unix_ns != 0) p.set_time_nanos(saturating_add(source.start_unix_ns, s.time_ns));
  p.add_comment(strings.index("gprof-id sample " + std::to_string(s.seq) + " at +" +
                              std::to_string(s.time_ns) + "ns"));
  if (!source.command_line.empty()) p.add_comment(strings.index(source.command_line));

  for (const goroutine_sample& g : s.goroutines) {
    const leaked_goroutine* leak = leaks ? diagnosis.leak_of(g.id) : nullptr;
    if (leaks && !leak) continue;
    auto* out = p.add_sample();
    out->add_value(1);
    for (std::uint32_t frame : tables.stacks.at(g.stack)) {
      out->add_location_id(locations.location(frame));
    }
    add_string_label(*out, strings, "state", to_string(g.state));
    if (g.state == goroutine_state::waiting && g.reason != wait_reason::none) {
      add_string_label(*out, strings, "wait_reason", to_string(g.reason));
    }
    add_string_label(*out, strings, "gopc", site_text(tables.sites.at(g.site)));
    if (leak) {
      add_string_label(*out, strings, "leak_rule", to_string(leak->rule));
      if (g.blocked_on != 0) {
        add_string_label(*out, strings, "blocked_on", object_id_text(g.blocked_on));
      }
    }
    if (g.labels) {
      for (const auto& [key, value] : *g.labels) add_string_label(*out, strings, key, value);
    }
    // Numbers only: pprof reads `-tagfocus goid=42` as a numeric range, which only numeric
    // labels match, and a text copy would make `-tags` count every goroutine twice.
    // pprof's numbers are int64: an id past INT64_MAX (only a hostile file has one) saturates
    // instead of turning negative.
    add_number_label(*out, strings, "goid", saturating_int64(g.id), "goid");
    add_number_label(*out, strings, "parent_goid", saturating_int64(g.parent_id), "parent_goid");
    if (g.state == goroutine_state::waiting) {
      add_number_label(*out, strings, "wait_ns", g.wait_ns, "nanoseconds");
    }
  }
  locations.add_mapping(source.program);
  return p;
}

std::string gzip(const std::string& data) {
  z_stream z{};
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("zlib: deflateInit2 failed");
  }
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("zlib: deflate failed");
  return out;
}

}  // namespace

std::string pprof_goroutine_profile_uncompressed(const symbol_tables& tables, const sample& s,
                                                 const pprof_source& source) {
  return build_profile(tables, s, source, profile_kind::goroutine).SerializeAsString();
}

std::string pprof_goroutineleak_profile_uncompressed(const symbol_tables& tables, const sample& s,
                                                     const pprof_source& source) {
  return build_profile(tables, s, source, profile_kind::goroutineleak).SerializeAsString();
}

std::string pprof_goroutineleak_profile(const symbol_tables& tables, const sample& s,
                                        const pprof_source& source) {
  return gzip(pprof_goroutineleak_profile_uncompressed(tables, s, source));
}

std::string pprof_goroutine_profile(const symbol_tables& tables, const sample& s,
                                    const pprof_source& source) {
  return gzip(pprof_goroutine_profile_uncompressed(tables, s, source));
}

}  // namespace gprofid
