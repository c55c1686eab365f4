// The findings section of the text summary: one capped list per category, most urgent first,
// each saying how many it left out, so that no category hides another.
#include <cstdio>
#include <string>

#include "gprofid/analysis/diff_text.hpp"
#include "gprofid/analysis/goroutine_dump.hpp"
#include "gprofid/analysis/wait_graph.hpp"
#include "gprofid/traceback_text.hpp"

namespace gprofid {
namespace {

constexpr const char* red = "\033[31m";
constexpr const char* magenta = "\033[35m";
constexpr const char* bold = "\033[1m";
constexpr const char* reset = "\033[0m";

std::string ids_text(const std::vector<std::uint64_t>& ids, std::size_t max = 20) {
  std::string out;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i == max) {
      out += ", ... (" + std::to_string(ids.size() - max) + " more)";
      break;
    }
    out += (i ? ", " : "") + std::to_string(ids[i]);
  }
  return out;
}

void more(std::ostream& out, std::uint64_t omitted) {
  if (omitted) out << "  ... " << omitted << " more\n";
}

}  // namespace

void write_findings_text(std::ostream& out, const diff_summary& s, const symbol_tables& tables,
                         const text_options& opt) {
  auto paint = [&](const char* c, const std::string& text) {
    return opt.color ? c + text + reset : text;
  };
  auto site_text = [&](std::uint32_t site) {
    return site < tables.sites.size() ? format_location(tables.sites[site]) : std::string("?");
  };
  auto with_labels = [](const label_ptr& l) {
    std::string t = format_labels(l);
    return t.empty() ? t : " " + t;
  };

  if (!s.deadlocks.empty()) {
    out << paint(bold, "deadlocks") << " (" << s.deadlocks.size() + s.omitted.deadlocks
        << ", each goroutine waits on a mutex held by the next):\n";
    for (const auto& d : s.deadlocks) {
      const auto& c = d.cycle;
      out << "  " << paint(red, "!") << " cycle of " << c.goroutines.size() << ": goroutines "
          << ids_text(c.goroutines) << " since +" << format_duration(d.first_time_ns);
      if (!c.blocked_behind.empty()) {
        out << "; " << c.blocked_behind.size() << " more blocked behind it ("
            << ids_text(c.blocked_behind, 10) << ")";
      }
      out << '\n';
      for (std::size_t i = 0; i < c.goroutines.size(); ++i) {
        out << "    goroutine " << c.goroutines[i] << " waits on mutex "
            << object_id_text(c.objects[i]) << " held by goroutine "
            << c.goroutines[(i + 1) % c.goroutines.size()]
            << with_labels(i < d.members.size() ? d.members[i].labels : nullptr) << '\n';
        if (i >= d.members.size()) continue;
        if (d.members[i].locked_at != 0) {
          out << "      (locked at " << format_frame(tables, d.members[i].locked_at - 1) << ")\n";
        }
        out << format_stack_text(tables, d.members[i].stack, "      ");
      }
    }
    more(out, s.omitted.deadlocks);
    out << '\n';
  }
  if (!s.leaks.empty()) {
    out << paint(bold, "leaked") << " (proven: they can never run again), by spawn site:\n";
    for (const auto& r : s.leaks) {
      out << "  " << paint(red, "!") << ' ' << r.goroutines.size() << " at " << site_text(r.site)
          << ": " << ids_text(r.goroutines) << '\n';
      if (r.closed_set) {
        out << "      " << r.closed_set << " wait on " << r.channels
            << (r.channels == 1 ? " channel" : " channels") << " whose " << r.handles
            << (r.handles == 1 ? " handle is" : " handles are all")
            << " held by the leaked goroutines themselves\n";
      }
      if (r.nil_waits) {
        out << "      " << r.nil_waits << " wait on a nil channel or an empty select\n";
      }
    }
    more(out, s.omitted.leaks);
    out << '\n';
  }
  if (!s.stuck.empty()) {
    out << paint(bold, "stuck") << " (one wait of at least "
        << format_duration(s.stuck_threshold_ns) << ", not resumed in between):\n";
    for (const auto& r : s.stuck) {
      out << "  " << paint(magenta, "!") << " goroutine " << r.id << " [" << to_string(r.reason)
          << ", " << format_duration(r.stuck_ns) << (r.ongoing ? "" : ", ended") << "]"
          << with_labels(r.labels) << '\n'
          << format_stack_text(tables, r.stack, "      ");
    }
    more(out, s.omitted.stuck);
    out << '\n';
  }
  if (!s.growing.empty()) {
    out << paint(bold, "growing sites") << " (live count trends up to the end):\n";
    for (std::uint32_t site : s.growing) {
      for (const auto& g : s.sites) {
        if (g.site != site) continue;
        char rate[64];
        std::snprintf(rate, sizeof rate, "%+.1f/s", g.trend_per_s);
        out << "  " << paint(magenta, "!") << ' ' << site_text(site) << ": " << rate << ", net "
            << (g.net_growth >= 0 ? "+" : "") << g.net_growth << ", " << g.alive_end << " at end\n";
      }
    }
    more(out, s.omitted.growing);
    out << '\n';
  }
  if (!s.never_yielded.empty()) {
    out << paint(bold, "never yielded") << " (held a worker across samples):\n";
    for (const auto& r : s.never_yielded) {
      out << "  " << paint(magenta, "!") << " goroutine " << r.id << " ["
          << format_duration(r.duration_ns) << ", " << r.samples << " samples]"
          << with_labels(r.labels) << '\n'
          << format_stack_text(tables, r.stack, "      ");
    }
    more(out, s.omitted.never_yielded);
    out << '\n';
  }
  if (!s.lost_wakeups.empty()) {
    out << paint(bold, "lost wake-ups") << " (parked on an object ready for them):\n";
    for (const auto& r : s.lost_wakeups) {
      out << "  " << paint(red, "!") << " goroutine " << r.id << with_labels(r.labels) << ": "
          << r.why << " (" << object_id_text(r.object) << ", " << r.samples << " samples)\n";
    }
    more(out, s.omitted.lost_wakeups);
    out << '\n';
  }
  if (!s.background.empty()) {
    out << paint(bold, "background") << " (service waits: accept, idle connections, stop and "
        << "ticker channels; not stuck):\n";
    for (const auto& b : s.background) {
      out << "  " << b.goroutines.size() << " [" << to_string(b.reason) << "] " << site_text(b.site)
          << ": " << ids_text(b.goroutines, 8) << '\n';
    }
    more(out, s.omitted.background);
    out << '\n';
  }
}

}  // namespace gprofid
