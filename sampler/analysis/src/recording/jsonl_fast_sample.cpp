#include "jsonl_fast_sample.hpp"

#include <algorithm>
#include <cstdint>
#include <string>

#include "jsonl_fast_objects.hpp"
#include "jsonl_scanner.hpp"

namespace gprofid {
namespace {

using jsonl_fast::scanner;
using jsonl_fast::seen_fields;

// A labels object, from the cache when a recent goroutine had the same text.
bool read_labels(scanner& sc, label_ptr& out, jsonl_fast::label_cache& cache) {
  sc.ws();
  const char* start = sc.position();
  if (!sc.peek('{') || !sc.skip_value()) return false;
  const std::string_view text(start, static_cast<std::size_t>(sc.position() - start));
  if ((out = cache.find(text))) return true;
  sc.rewind(start);
  if (!sc.eat('{')) return false;
  label_set set;
  if (!sc.eat('}')) {
    do {
      std::string_view k, v;
      if (!sc.string(k) || !sc.eat(':') || !sc.string(v)) return false;
      set.emplace_back(std::string(k), std::string(v));
    } while (sc.eat(','));
    if (!sc.eat('}')) return false;
  }
  // As nlohmann's objects iterate: sorted by key. Duplicate keys: give up.
  std::sort(set.begin(), set.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  if (std::adjacent_find(set.begin(), set.end(), [](const auto& a, const auto& b) {
        return a.first == b.first;
      }) != set.end())
    return false;
  out = std::make_shared<const label_set>(std::move(set));
  cache.insert(text, out);
  return true;
}

// A goroutine's fields, in the order the writer puts them (recording_writer.cpp), so that the
// next key is nearly always found by one comparison (scanner::key).
enum goroutine_field {
  id,
  parent,
  site,
  state,
  wait,
  wait_ns,
  created_ns,
  stack,
  labels,
  resumes,
  running_ns,
  runnable_ns,
  blocked_on,
  field_count
};
constexpr std::array<std::string_view, field_count> quoted_keys = {
    "\"id\":",         "\"parent\":",      "\"site\":",      "\"state\":",  "\"wait\":",
    "\"wait_ns\":",    "\"created_ns\":",  "\"stack\":",     "\"labels\":", "\"resumes\":",
    "\"running_ns\":", "\"runnable_ns\":", "\"blocked_on\":"};
// What the writer leaves out when empty.
constexpr unsigned optional_fields = 1u << wait | 1u << labels | 1u << blocked_on;

bool read_goroutine(scanner& sc, const symbol_tables& t, goroutine_sample& g,
                    jsonl_fast::label_cache& labels_read) {
  constexpr unsigned required = 1u << id | 1u << parent | 1u << site | 1u << stack | 1u << state |
                                1u << wait_ns | 1u << created_ns | 1u << resumes |
                                1u << running_ns | 1u << runnable_ns;
  if (!sc.eat('{')) return false;
  seen_fields seen;
  if (!sc.peek('}')) {
    int next = 0;
    do {
      const int f = jsonl_fast::next_field(sc, quoted_keys, next, optional_fields);
      if (f < 0) return false;
      if (f == field_count) {
        if (!sc.skip_value()) return false;  // a field the reader does not know: ignored
        continue;
      }
      if (!seen.first(f)) return false;
      next = f + 1;
      std::string_view text;
      std::uint64_t u = 0;
      bool ok = true;
      switch (f) {
        case id:
          ok = sc.uint(g.id);
          break;
        case parent:
          ok = sc.uint(g.parent_id);
          break;
        case site:
          ok = sc.uint(u) && u < t.sites.size();
          g.site = static_cast<std::uint32_t>(u);
          break;
        case stack:
          ok = sc.uint(u) && u < t.stacks.size();
          g.stack = static_cast<std::uint32_t>(u);
          break;
        case state: {
          auto st = sc.string(text) ? parse_goroutine_state(text) : std::nullopt;
          ok = st.has_value();
          if (ok) g.state = *st;
          break;
        }
        case wait: {
          auto r = sc.string(text) ? parse_wait_reason(text) : std::nullopt;
          ok = r.has_value();
          if (ok) g.reason = *r;
          break;
        }
        case wait_ns:
          ok = sc.sint(g.wait_ns);
          break;
        case created_ns:
          ok = sc.sint(g.created_ns);
          break;
        case labels:
          ok = read_labels(sc, g.labels, labels_read);
          break;
        case resumes:
          ok = sc.uint(g.resumes);
          break;
        case running_ns:
          ok = sc.sint(g.running_ns);
          break;
        case runnable_ns:
          ok = sc.sint(g.runnable_ns);
          break;
        case blocked_on:
          ok = sc.hex(g.blocked_on);
          break;
        default:
          ok = false;
      }
      if (!ok) return false;
    } while (sc.eat(','));
  }
  return sc.eat('}') && seen.all(required);
}

}  // namespace

bool parse_sample_line_fast(std::string_view line, const symbol_tables& tables, sample& out,
                            jsonl_fast::label_cache& label_sets) {
  enum { type, seq, t_ns, snapshot_ns, pause_ns, goroutines, objects, more_objects };
  scanner sc(line);
  seen_fields seen;
  label_sets.next_sample();
  out.goroutines.clear();
  std::size_t objects_read = 0;  // out.objects beyond these are the last sample's, to reuse
  if (!sc.eat('{')) return false;
  do {
    std::string_view key, text;
    if (!sc.string(key) || !sc.eat(':')) return false;
    if (key == "type") {
      if (!seen.first(type) || !sc.string(text) || text != "sample") return false;
    } else if (key == "seq") {
      if (!seen.first(seq) || !sc.uint(out.seq)) return false;
    } else if (key == "t_ns") {
      if (!seen.first(t_ns) || !sc.sint(out.time_ns)) return false;
    } else if (key == "snapshot_ns") {
      if (!seen.first(snapshot_ns) || !sc.sint(out.duration_ns)) return false;
    } else if (key == "pause_ns") {
      if (!seen.first(pause_ns) || !sc.sint(out.pause_ns)) return false;
    } else if (key == "goroutines") {
      if (!seen.first(goroutines) || !sc.eat('[')) return false;
      if (!sc.eat(']')) {
        do {
          if (!read_goroutine(sc, tables, out.goroutines.emplace_back(), label_sets)) {
            return false;
          }
        } while (sc.eat(','));
        if (!sc.eat(']')) return false;
      }
    } else if (key == "objects" || key == "more_objects") {
      const bool apart = key == "more_objects";
      if (!seen.first(apart ? more_objects : objects) ||
          !jsonl_fast::read_objects(sc, tables, apart, out.objects, objects_read))
        return false;
    } else if (!sc.skip_value()) {
      return false;
    }
  } while (sc.eat(','));
  return sc.eat('}') && sc.at_end() && seen.all(0x3F) &&
         jsonl_fast::sort_objects(out.objects, objects_read);
}

}  // namespace gprofid
