#include "jsonl_fast_objects.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <string_view>

namespace gprofid::jsonl_fast {
namespace {

// In the order the writer puts them (recording_writer.cpp, append_object), so that the next key
// is nearly always found by one comparison (scanner::key).
enum object_field {
  id,
  kind,
  capacity,
  count,
  closed,
  senders,
  receivers,
  handles,
  held_by,
  timer,
  locked,
  owner,
  queue,
  locked_at,
  counter,
  waiters,
  set,
  cases,
  send_cases,
  nil_cases,
  when_ns,
  period_ns,
  fd,
  direction,
  field_count
};
constexpr std::array<std::string_view, field_count> quoted_keys = {
    "\"id\":",      "\"kind\":",      "\"capacity\":", "\"count\":",      "\"closed\":",
    "\"senders\":", "\"receivers\":", "\"handles\":",  "\"held_by\":",    "\"timer\":",
    "\"locked\":",  "\"owner\":",     "\"queue\":",    "\"locked_at\":",  "\"counter\":",
    "\"waiters\":", "\"set\":",       "\"cases\":",    "\"send_cases\":", "\"nil_cases\":",
    "\"when_ns\":", "\"period_ns\":", "\"fd\":",       "\"direction\":"};

bool u32(scanner& sc, std::uint32_t& v) noexcept {
  std::uint64_t u = 0;
  if (!sc.uint(u) || u > std::numeric_limits<std::uint32_t>::max()) return false;
  v = static_cast<std::uint32_t>(u);
  return true;
}

// An array of goroutine ids, or of hex object ids.
bool ids(scanner& sc, bool hex, std::vector<std::uint64_t>& out) {
  if (!sc.eat('[')) return false;
  if (sc.eat(']')) return true;
  do {
    std::uint64_t v = 0;
    if (!(hex ? sc.hex(v) : sc.uint(v))) return false;
    out.push_back(v);
  } while (sc.eat(','));
  return sc.eat(']');
}

bool value(scanner& sc, int f, const symbol_tables& t, wait_object& o,
           std::string_view& kind_name) {
  std::uint64_t u = 0;
  std::int64_t i = 0;
  std::string_view text;
  switch (f) {
    case id:
      return sc.hex(o.id);
    case kind:
      return sc.string(kind_name);
    case capacity:
      return sc.uint(o.capacity);
    case count:
      return sc.uint(o.count);
    case closed:
      return sc.boolean(o.closed);
    case senders:
      return u32(sc, o.senders);
    case receivers:
      return u32(sc, o.receivers);
    case handles:
      return u32(sc, o.handles);
    case held_by:
      return ids(sc, false, o.held_by);
    case locked:
      return sc.boolean(o.locked);
    case owner:
      return sc.uint(o.owner);
    case queue:
      return ids(sc, false, o.queue);
    case locked_at:
      if (!sc.uint(u) || u >= t.frames.size()) return false;
      o.locked_at = static_cast<std::uint32_t>(u + 1);
      return true;
    case counter:
      return sc.sint(o.counter);
    case waiters:
      return u32(sc, o.waiters);
    case set:
      return sc.boolean(o.set);
    case cases:
      return ids(sc, true, o.cases);
    case send_cases:
      return ids(sc, true, o.send_cases);
    case nil_cases:
      return u32(sc, o.nil_cases);
    case timer:
      return sc.hex(o.timer);
    case when_ns:
      return sc.sint(o.when_ns);
    case period_ns:
      return sc.sint(o.period_ns);
    case fd:
      if (!sc.sint(i) || i < std::numeric_limits<std::int32_t>::min() ||
          i > std::numeric_limits<std::int32_t>::max())
        return false;
      o.fd = static_cast<std::int32_t>(i);
      return true;
    case direction:
      if (!sc.string(text) || (text != "read" && text != "write")) return false;
      o.write = text == "write";
      return true;
    default:
      return false;
  }
}

// One object; `keep` false for an object of a kind this reader does not know in more_objects.
bool read_object(scanner& sc, const symbol_tables& t, bool apart, wait_object& o, bool& keep) {
  if (!sc.eat('{')) return false;
  seen_fields seen;
  std::string_view kind_name;
  if (!sc.peek('}')) {
    int last = -1;
    do {
      const int f = next_field(sc, quoted_keys, last + 1, 0);
      if (f < 0) return false;
      if (f == field_count) {
        if (!sc.skip_value()) return false;  // a field the reader does not know: ignored
        continue;
      }
      if (!seen.first(f) || !value(sc, f, t, o, kind_name)) return false;
      last = f;
    } while (sc.eat(','));
  }
  if (!sc.eat('}') || !seen.all(1u << id | 1u << kind)) return false;
  const auto k = parse_wait_object_kind(kind_name);
  keep = k.has_value();
  if (!k) return apart;  // skipped apart; an error in objects
  if (is_extension_kind(*k) != apart) return false;
  o.kind = *k;
  std::sort(o.send_cases.begin(), o.send_cases.end());
  return true;
}

// A default object that keeps the capacity of its lists: most samples repeat the last one's
// graph, and its allocations with it.
void reset(wait_object& o) {
  auto held_by = std::move(o.held_by), queue = std::move(o.queue), cases = std::move(o.cases),
       send_cases = std::move(o.send_cases);
  o = wait_object{};
  held_by.clear();
  queue.clear();
  cases.clear();
  send_cases.clear();
  o.held_by = std::move(held_by);
  o.queue = std::move(queue);
  o.cases = std::move(cases);
  o.send_cases = std::move(send_cases);
}

}  // namespace

bool read_objects(scanner& sc, const symbol_tables& tables, bool apart,
                  std::vector<wait_object>& out, std::size_t& used) {
  if (!sc.eat('[')) return false;
  if (sc.eat(']')) return true;
  do {
    bool keep = true;
    if (used == out.size()) out.emplace_back();
    wait_object& o = out[used];
    reset(o);
    if (!read_object(sc, tables, apart, o, keep)) return false;
    if (keep) ++used;
  } while (sc.eat(','));
  return sc.eat(']');
}

bool sort_objects(std::vector<wait_object>& objects, std::size_t used) {
  objects.resize(used);
  auto by_id = [](const wait_object& a, const wait_object& b) { return a.id < b.id; };
  // The writer lists `objects` and `more_objects` each sorted: two runs to merge, which moves
  // far less than a sort of these large records.
  const auto second_run = std::is_sorted_until(objects.begin(), objects.end(), by_id);
  if (std::is_sorted(second_run, objects.end(), by_id)) {
    std::inplace_merge(objects.begin(), second_run, objects.end(), by_id);
  } else {
    std::sort(objects.begin(), objects.end(), by_id);
  }
  return std::adjacent_find(objects.begin(), objects.end(), [](const auto& a, const auto& b) {
           return a.id == b.id;
         }) == objects.end();
}

}  // namespace gprofid::jsonl_fast
