#include "v2_objects.hpp"

#include <limits>
#include <string>

#include "gprofid/analysis/wait_graph.hpp"
#include "v2_cursor.hpp"

namespace gprofid::v2_decode {
namespace {

namespace f = recording_format_v2::object_field;
namespace flag = recording_format_v2::object_flag;

constexpr std::uint64_t u32_max = std::numeric_limits<std::uint32_t>::max();

// An id list: zigzag deltas from the previous element, the first from 0, to the end of `c`.
std::vector<std::uint64_t> read_ids(cursor& c) {
  std::vector<std::uint64_t> ids;
  std::uint64_t id = 0;
  while (!c.done()) {
    id += static_cast<std::uint64_t>(c.s("id list entry"));  // wraps, as the writer's delta
    ids.push_back(id);
  }
  return ids;
}

// The tagged fields of one object record, applied to `o`. `at` is where they start in the
// objects field, for positions.
void read_fields(std::string_view fields, std::size_t at, wait_object& o, std::size_t frames,
                 bool apart) {
  cursor c(fields);
  try {
    for_each_tagged(c, [&](std::uint64_t field, std::uint8_t wire, cursor& c) {
      const std::size_t vat = c.pos();
      const bool list =
          field == f::held_by || field == f::queue || field == f::cases || field == f::send_cases;
      if (field < f::kind || field > f::last) return false;  // a newer writer's: skipped
      if ((wire == v2::wire::bytes) != list) {
        throw decode_error{"object " + object_id_text(o.id) + ": field " + std::to_string(field) +
                               " has the wrong wire type",
                           vat};
      }
      if (list) {
        const std::string_view bytes = c.bytes("id list");
        cursor lc(bytes);
        std::vector<std::uint64_t> ids;
        try {
          ids = read_ids(lc);
        } catch (decode_error& e) {
          e.at += c.pos() - bytes.size();  // where the list starts
          throw;
        }
        switch (field) {
          case f::held_by:
            o.held_by = std::move(ids);
            break;
          case f::queue:
            o.queue = std::move(ids);
            break;
          case f::cases:
            o.cases = std::move(ids);
            break;
          default:
            o.send_cases = std::move(ids);
            break;
        }
        return true;
      }
      auto u32 = [&](const char* what) { return static_cast<std::uint32_t>(c.u(what, u32_max)); };
      switch (field) {
        case f::kind: {
          // In more_objects a kind this reader does not know is a later writer's: kept for the
          // changes that follow, left out of the samples (keep_known).
          const std::uint64_t k = c.u("object kind");
          const auto kind = static_cast<wait_object_kind>(k);
          const bool known = k != 0 && k <= 255 && to_string(kind) != "unknown";
          if (k == 0 || k > 255 || (!known && !apart)) {
            throw decode_error{
                "object " + object_id_text(o.id) + ": unknown object kind " + std::to_string(k),
                vat};
          }
          if (known && is_extension_kind(kind) != apart) {
            throw decode_error{"object " + object_id_text(o.id) + ": kind " + std::to_string(k) +
                                   " belongs in sample field " +
                                   std::to_string(apart ? v2::sample_field::objects
                                                        : v2::sample_field::more_objects),
                               vat};
          }
          o.kind = kind;
          break;
        }
        case f::flags: {
          const std::uint64_t b = c.u("object flags");
          if (b & ~flag::known) {
            throw decode_error{"object " + object_id_text(o.id) + ": unknown object flags " +
                                   std::to_string(b & ~flag::known),
                               vat};
          }
          o.closed = (b & flag::closed) != 0;
          o.locked = (b & flag::locked) != 0;
          o.set = (b & flag::set) != 0;
          break;
        }
        case f::capacity:
          o.capacity = c.u("capacity");
          break;
        case f::count:
          o.count = c.u("count");
          break;
        case f::senders:
          o.senders = u32("senders");
          break;
        case f::receivers:
          o.receivers = u32("receivers");
          break;
        case f::handles:
          o.handles = u32("handles");
          break;
        case f::owner:
          o.owner = c.u("owner");
          break;
        case f::counter:
          o.counter = c.s("counter");
          break;
        case f::waiters:
          o.waiters = u32("waiters");
          break;
        case f::nil_cases:
          o.nil_cases = u32("nil_cases");
          break;
        case f::timer:
          o.timer = c.u("timer");
          break;
        case f::when_ns:
          o.when_ns = c.s("when_ns");
          break;
        case f::period_ns:
          o.period_ns = c.s("period_ns");
          break;
        case f::fd: {
          const std::int64_t fd = c.s("fd");
          if (fd < std::numeric_limits<std::int32_t>::min() ||
              fd > std::numeric_limits<std::int32_t>::max()) {
            throw decode_error{
                "object " + object_id_text(o.id) + ": fd " + std::to_string(fd) + " out of range",
                vat};
          }
          o.fd = static_cast<std::int32_t>(fd);
          break;
        }
        case f::direction: {
          const std::uint64_t d = c.u("direction");
          if (d > 1) {
            throw decode_error{
                "object " + object_id_text(o.id) + ": unknown direction " + std::to_string(d), vat};
          }
          o.write = d == 1;
          break;
        }
        case f::locked_at: {
          const std::uint64_t v = c.u("locked_at");
          if (v > frames) {
            throw decode_error{"object " + object_id_text(o.id) + " refers to undefined frame " +
                                   std::to_string(v - 1),
                               vat};
          }
          o.locked_at = static_cast<std::uint32_t>(v);
          break;
        }
      }
      return true;
    });
  } catch (decode_error& e) {
    e.at += at;
    throw;
  }
}

}  // namespace

void apply_object_changes(std::string_view bytes, std::vector<wait_object>& objects,
                          std::vector<wait_object>& scratch, std::size_t frames, bool apart) {
  cursor c(bytes);
  std::vector<std::uint64_t> gone;
  const std::uint64_t n_gone = c.count("gone object count", 1);
  std::uint64_t id = 0;
  for (std::uint64_t i = 0; i < n_gone; ++i) {
    const std::size_t at = c.pos();
    const std::uint64_t d = c.u("gone object id");
    if ((i > 0 && d == 0) || id + d < id) {
      throw decode_error{"gone object ids must increase", at};
    }
    id += d;
    gone.push_back(id);
  }
  const std::size_t records_at = c.pos();
  std::vector<wait_object>& next = scratch;
  next.clear();
  std::size_t p = 0, g = 0;
  // Keeps the previous objects below `limit` (all of them if `all`), minus the gone ones; every
  // gone id below the limit must name one of them.
  auto keep_below = [&](std::uint64_t limit, bool all) {
    for (; p < objects.size() && (all || objects[p].id < limit); ++p) {
      if (g < gone.size() && gone[g] < objects[p].id) break;
      if (g < gone.size() && gone[g] == objects[p].id) {
        ++g;
        continue;
      }
      next.push_back(std::move(objects[p]));
    }
    if (g < gone.size() && (all || gone[g] < limit) &&
        (p == objects.size() || gone[g] < objects[p].id)) {
      throw decode_error{"object " + object_id_text(gone[g]) + " goes, but was not in the graph",
                         records_at};
    }
  };
  const std::uint64_t n = c.count("object record count", 2);
  id = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::size_t at = c.pos();
    const std::uint64_t d = c.u("object id");
    if ((i > 0 && d == 0) || id + d < id) {
      throw decode_error{"object ids must increase (goes from " + object_id_text(id) + " by " +
                             std::to_string(d) + ")",
                         at};
    }
    id += d;
    keep_below(id, false);
    wait_object o;
    if (p < objects.size() && objects[p].id == id) {
      if (g < gone.size() && gone[g] == id) {
        throw decode_error{"object " + object_id_text(id) + " goes and changes in one sample", at};
      }
      o = std::move(objects[p++]);
    }
    o.id = id;
    const std::string_view fields = c.bytes("object record");
    read_fields(fields, c.pos() - fields.size(), o, frames, apart);
    if (o.kind == wait_object_kind::none) {
      throw decode_error{"object " + object_id_text(id) + " has no kind", at};
    }
    next.push_back(std::move(o));
  }
  keep_below(0, true);
  objects.swap(next);
}

}  // namespace gprofid::v2_decode

namespace gprofid::v2_decode {

void merge_graphs(const std::vector<wait_object>& objects,
                  const std::vector<wait_object>& more_objects, std::vector<wait_object>& out) {
  out.clear();
  out.reserve(objects.size() + more_objects.size());
  auto a = objects.begin();
  for (const wait_object& o : more_objects) {
    if (to_string(o.kind) == "unknown") continue;  // a later writer's kind
    for (; a != objects.end() && a->id < o.id; ++a) out.push_back(*a);
    if (a != objects.end() && a->id == o.id) {
      throw decode_error{"object " + object_id_text(o.id) + " is in both objects and more_objects",
                         0};
    }
    out.push_back(o);
  }
  out.insert(out.end(), a, objects.end());
}

}  // namespace gprofid::v2_decode
