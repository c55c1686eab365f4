#include "gprofid/analysis/top_warnings.hpp"

#include <algorithm>
#include <cstdio>

#include "gprofid/analysis/goroutine_dump.hpp"
#include "gprofid/traceback_text.hpp"

namespace gprofid {

std::string_view mark_letter(top_mark m) noexcept {
  switch (m) {
    case top_mark::none:
      return "";
    case top_mark::stuck:
      return "S";
    case top_mark::never_yielded:
      return "Y";
    case top_mark::leaked:
      return "L";
    case top_mark::deadlocked:
      return "D";
  }
  return "";
}

top_mark top_warnings::mark_of(std::uint64_t id) const noexcept {
  auto it = std::lower_bound(marks.begin(), marks.end(), id,
                             [](const auto& m, std::uint64_t v) { return m.first < v; });
  return it != marks.end() && it->first == id ? it->second : top_mark::none;
}

namespace {

std::string ids_text(const std::vector<std::uint64_t>& ids, std::size_t max = 8) {
  std::string out;
  for (std::size_t i = 0; i < ids.size() && i < max; ++i)
    out += (i ? ", " : "") + std::to_string(ids[i]);
  if (ids.size() > max) out += ", ... (" + std::to_string(ids.size() - max) + " more)";
  return out;
}

std::string with_labels(const label_ptr& l) {
  std::string t = format_labels(l);
  return t.empty() ? t : " " + t;
}

std::string more_text(std::uint64_t omitted, const char* what) {
  return "... " + std::to_string(omitted) + " more " + what;
}

}  // namespace

top_warnings make_top_warnings(const diff_summary& s, const symbol_tables& tables) {
  top_warnings w;
  w.stuck_threshold_ns = s.stuck_threshold_ns;
  auto site_text = [&](std::uint32_t site) {
    return site < tables.sites.size() ? format_location(tables.sites[site]) : std::string("?");
  };
  auto add = [&](top_mark kind, std::vector<std::uint64_t> ids, std::string text) {
    w.lines.push_back({kind, std::move(ids), std::move(text)});
  };
  for (const auto& d : s.deadlocks) {
    std::string t = "deadlock: goroutines " + ids_text(d.cycle.goroutines) +
                    " each wait on a mutex held by the next, since +" +
                    format_duration(d.first_time_ns);
    if (!d.cycle.blocked_behind.empty()) {
      t += "; " + std::to_string(d.cycle.blocked_behind.size()) + " blocked behind (" +
           ids_text(d.cycle.blocked_behind, 5) + ")";
    }
    add(top_mark::deadlocked, d.cycle.goroutines, std::move(t));
  }
  if (s.omitted.deadlocks)
    add(top_mark::deadlocked, {}, more_text(s.omitted.deadlocks, "deadlocks"));
  for (const auto& r : s.leaks) {
    std::string proof = r.closed_set && r.nil_waits ? "closed handle sets, nil waits"
                        : r.closed_set              ? "every handle held inside the set"
                                                    : "nil channel or empty select";
    add(top_mark::leaked, r.goroutines,
        "leaked: " + std::to_string(r.goroutines.size()) + " at " + site_text(r.site) + " (" +
            proof + "): " + ids_text(r.goroutines));
  }
  if (s.omitted.leaks) add(top_mark::leaked, {}, more_text(s.omitted.leaks, "leaking sites"));
  for (const auto& r : s.stuck) {
    add(top_mark::stuck, {r.id},
        "stuck: goroutine " + std::to_string(r.id) + " [" + std::string(to_string(r.reason)) +
            ", " + format_duration(r.stuck_ns) + (r.ongoing ? "" : ", ended") + "]" +
            with_labels(r.labels) + " at " + format_top_frame(tables, r.stack));
  }
  if (s.omitted.stuck) add(top_mark::stuck, {}, more_text(s.omitted.stuck, "stuck"));
  for (const auto& r : s.never_yielded) {
    add(top_mark::never_yielded, {r.id},
        "never yielded: goroutine " + std::to_string(r.id) + " [" + format_duration(r.duration_ns) +
            ", " + std::to_string(r.samples) + " samples]" + with_labels(r.labels) + " at " +
            format_top_frame(tables, r.stack));
  }
  if (s.omitted.never_yielded) {
    add(top_mark::never_yielded, {}, more_text(s.omitted.never_yielded, "never yielded"));
  }
  for (const auto& r : s.lost_wakeups) {
    add(top_mark::stuck, {r.id},
        "lost wake-up: goroutine " + std::to_string(r.id) + ": " + r.why + " (" +
            object_id_text(r.object) + ", " + std::to_string(r.samples) + " samples)");
  }
  for (std::uint32_t site : s.growing) {
    for (const auto& g : s.sites) {
      if (g.site != site) continue;
      char rate[64];
      std::snprintf(rate, sizeof rate, "%+.1f/s", g.trend_per_s);
      add(top_mark::none, {},
          "growing: " + site_text(site) + " " + rate + ", " + std::to_string(g.alive_end) +
              " alive");
    }
  }

  // Marks from every goroutine's verdicts, not only the capped lists: the table shows them all.
  for (const auto& l : s.goroutines) {
    top_mark m = l.deadlocked ? top_mark::deadlocked : l.leaked ? top_mark::leaked : top_mark::none;
    if (m != top_mark::none && l.alive) w.marks.emplace_back(l.id, m);
  }
  auto upgrade = [&](std::uint64_t id, top_mark m) {
    auto it = std::lower_bound(w.marks.begin(), w.marks.end(), id,
                               [](const auto& x, std::uint64_t v) { return x.first < v; });
    if (it != w.marks.end() && it->first == id) {
      it->second = std::max(it->second, m);
    } else {
      w.marks.insert(it, {id, m});
    }
  };
  for (const auto& r : s.stuck) {
    if (r.ongoing) upgrade(r.id, top_mark::stuck);
  }
  for (const auto& r : s.never_yielded) upgrade(r.id, top_mark::never_yielded);
  return w;
}

}  // namespace gprofid
