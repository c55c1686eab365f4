#include "gprofid/analysis/diff_text.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "gprofid/analysis/goroutine_dump.hpp"
#include "gprofid/saturating.hpp"
#include "gprofid/traceback_text.hpp"

namespace gprofid {
namespace {

constexpr const char* green = "\033[32m";
constexpr const char* red = "\033[31m";
constexpr const char* yellow = "\033[33m";
constexpr const char* magenta = "\033[35m";
constexpr const char* bold = "\033[1m";
constexpr const char* reset = "\033[0m";

class painter {
 public:
  explicit painter(bool on) : on_(on) {}
  std::string operator()(const char* color, const std::string& s) const {
    return on_ ? color + s + reset : s;
  }

 private:
  bool on_;
};

std::string offset(std::int64_t ns) {
  return "+" + format_duration(ns);
}

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

// "4, 7{request=9}, 9": ids with the labels that set each apart from its group; the first `max`
// (0: all).
std::string id_list(const std::vector<const goroutine_sample*>& members,
                    const std::vector<std::string>& own, std::size_t max) {
  std::string out;
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (max != 0 && i == max) {
      out += ", ... (" + std::to_string(members.size() - max) + " more)";
      break;
    }
    out += (i ? ", " : "") + std::to_string(members[i]->id) + own[i];
  }
  return out;
}

// Goroutines sharing state, reason, stack and spawn site, shown once with their ids.
struct group {
  std::vector<const goroutine_sample*> members;  // in id order
  std::int64_t lo = 0, hi = 0;                   // range of the shown duration
};

template <class T, class Get, class Dur>
std::vector<group> group_by_stack(const std::vector<T>& items, Get get, Dur dur) {
  std::map<std::tuple<goroutine_state, wait_reason, std::uint32_t, std::uint32_t>, group> m;
  for (const auto& item : items) {
    const goroutine_sample& g = get(item);
    group& gr = m[{g.state, g.reason, g.stack, g.site}];
    std::int64_t d = dur(item);
    if (gr.members.empty()) gr.lo = gr.hi = d;
    gr.members.push_back(&g);
    gr.lo = std::min(gr.lo, d);
    gr.hi = std::max(gr.hi, d);
  }
  std::vector<group> out;
  for (auto& [k, gr] : m) out.push_back(std::move(gr));
  std::stable_sort(out.begin(), out.end(), [](const group& a, const group& b) {
    return a.members.size() > b.members.size();
  });
  return out;
}

std::string state_text(goroutine_state s, wait_reason r) {
  return std::string(s == goroutine_state::waiting ? to_string(r) : to_string(s));
}

std::string range_text(std::int64_t lo, std::int64_t hi) {
  std::string a = format_duration(lo), b = format_duration(hi);
  return a == b ? a : a + "~" + b;
}

void write_groups(std::ostream& out, const std::vector<group>& groups, const std::string& marker,
                  const std::string& duration_label, const symbol_tables& tables,
                  const text_options& opt) {
  std::size_t shown = 0;
  for (const auto& gr : groups) {
    if (opt.max_rows != 0 && shown == opt.max_rows) {
      out << "  ... " << groups.size() - shown << " more groups\n";
      break;
    }
    ++shown;
    const goroutine_sample& g = *gr.members.front();
    const group_text text = format_group(gr.members, tables, "      ");
    out << "  " << marker << ' ' << gr.members.size()
        << (gr.members.size() == 1 ? " goroutine [" : " goroutines [")
        << state_text(g.state, g.reason);
    if (!duration_label.empty()) out << ", " << duration_label << range_text(gr.lo, gr.hi);
    out << "]: " << id_list(gr.members, text.own, opt.max_rows == 0 ? 0 : 20) << '\n';
    if (!text.labels.empty()) out << "      labels: " << text.labels << '\n';
    out << format_stack_text(tables, g.stack, "      ");
    out << text.created_by;
  }
}

bool over(std::size_t& shown, std::size_t total, const text_options& opt, std::ostream& out) {
  if (opt.max_rows != 0 && shown == opt.max_rows) {
    out << "  ... " << total - shown << " more\n";
    return true;
  }
  ++shown;
  return false;
}

}  // namespace

void write_pair_text(std::ostream& out, const pair_diff& d, const symbol_tables& tables,
                     const text_options& opt) {
  painter paint(opt.color);
  const auto& c = d.counts;
  out << paint(bold, "=== sample " + std::to_string(d.from_seq) + " -> " +
                         std::to_string(d.to_seq) + "  (" + offset(d.from_time_ns) + " -> " +
                         offset(d.to_time_ns) + ", " +
                         format_duration(saturating_sub(d.to_time_ns, d.from_time_ns)) + ")")
      << "  goroutines " << c.before << " -> " << c.after << "  "
      << paint(green, "+" + std::to_string(c.created)) << ' '
      << paint(red, "-" + std::to_string(c.exited)) << ' '
      << paint(yellow, "~" + std::to_string(c.state_changed) + " state ~" +
                           std::to_string(c.stack_changed) + " stack")
      << "  " << c.stuck << " stuck\n";

  if (!d.created.empty()) {
    out << paint(bold, "created") << " (" << d.created.size() << "):\n";
    auto groups = group_by_stack(
        d.created, [](const goroutine_sample* g) -> const goroutine_sample& { return *g; },
        [](const goroutine_sample* g) { return g->wait_ns; });
    write_groups(out, groups, paint(green, "+"), "", tables, opt);
  }
  if (!d.exited.empty()) {
    // It ended somewhere between the two samples: its life is known only to that bound.
    out << paint(bold, "exited") << " (" << d.exited.size() << ", between "
        << offset(d.from_time_ns) << " and " << offset(d.to_time_ns) << "):\n";
    auto groups = group_by_stack(
        d.exited, [](const goroutine_sample* g) -> const goroutine_sample& { return *g; },
        [&](const goroutine_sample* g) { return saturating_sub(d.from_time_ns, g->created_ns); });
    write_groups(out, groups, paint(red, "-"), "lived at least ", tables, opt);
  }
  if (!d.state_changes.empty()) {
    out << paint(bold, "state changes") << " (" << d.state_changes.size() << "):\n";
    std::size_t w_id = 2, w_from = 4;
    for (const auto& ch : d.state_changes) {
      w_id = std::max(w_id, std::to_string(ch.after->id).size());
      w_from = std::max(w_from, state_text(ch.before->state, ch.before->reason).size());
    }
    std::size_t shown = 0;
    for (const auto& ch : d.state_changes) {
      if (over(shown, d.state_changes.size(), opt, out)) break;
      std::string to = state_text(ch.after->state, ch.after->reason);
      if (ch.after->state == goroutine_state::waiting && ch.after->wait_ns > 0) {
        to += " (" + format_duration(ch.after->wait_ns) + ")";
      }
      if (d.after) {
        if (std::string w = format_wait_detail(*d.after, *ch.after); !w.empty()) {
          to += " [" + w + "]";
        }
      }
      out << "  " << paint(yellow, "~") << ' ' << pad(std::to_string(ch.after->id), w_id) << "  "
          << pad(state_text(ch.before->state, ch.before->reason), w_from) << " -> " << pad(to, 24)
          << "  " << format_top_frame(tables, ch.after->stack) << '\n';
    }
  }
  if (!d.stack_changes.empty()) {
    out << paint(bold, "stack changes") << " (" << d.stack_changes.size() << "):\n";
    std::size_t w_id = 2, w_from = 4;
    for (const auto& ch : d.stack_changes) {
      w_id = std::max(w_id, std::to_string(ch.after->id).size());
      w_from = std::max(w_from, format_top_frame(tables, ch.before->stack).size());
    }
    std::size_t shown = 0;
    for (const auto& ch : d.stack_changes) {
      if (over(shown, d.stack_changes.size(), opt, out)) break;
      out << "  " << paint(yellow, "~") << ' ' << pad(std::to_string(ch.after->id), w_id) << "  "
          << pad(format_top_frame(tables, ch.before->stack), w_from) << "  ->  "
          << format_top_frame(tables, ch.after->stack) << '\n';
    }
  }
  if (!d.stuck.empty()) {
    // A wait that continues is not a change: each is listed in the first pair that reports it,
    // and only counted after that.
    std::vector<stuck_goroutine> fresh;
    std::map<std::string, std::size_t> continuing;  // by wait reason
    std::int64_t longest = 0;
    for (const auto& st : d.stuck) {
      if (st.is_new) {
        fresh.push_back(st);
      } else {
        ++continuing[state_text(st.g->state, st.g->reason)];
        longest = std::max(longest, st.duration_ns);
      }
    }
    const std::size_t n_continuing = d.stuck.size() - fresh.size();
    out << paint(bold, "stuck") << " (" << d.stuck.size();
    if (n_continuing > 0) out << ", " << fresh.size() << " new";
    out << "):\n";
    auto groups = group_by_stack(
        fresh, [](const stuck_goroutine& s) -> const goroutine_sample& { return *s.g; },
        [](const stuck_goroutine& s) { return s.duration_ns; });
    // Longest-stuck first: that is where a deadlock shows.
    std::stable_sort(groups.begin(), groups.end(),
                     [](const group& a, const group& b) { return a.hi > b.hi; });
    write_groups(out, groups, paint(magenta, "!"), "stuck ", tables, opt);
    if (n_continuing > 0) {
      out << "  " << paint(magenta, "!") << ' ' << n_continuing
          << " still stuck, listed in an earlier pair (";
      // Most common wait first.
      std::vector<std::pair<std::string, std::size_t>> by_count(continuing.begin(),
                                                                continuing.end());
      std::stable_sort(by_count.begin(), by_count.end(),
                       [](const auto& x, const auto& y) { return x.second > y.second; });
      for (std::size_t i = 0; i < by_count.size(); ++i) {
        out << (i ? ", " : "") << by_count[i].second << ' ' << by_count[i].first;
      }
      out << "), longest " << format_duration(longest) << '\n';
    }
  }
  if (!d.never_yielded.empty()) {
    out << paint(bold, "never yielded") << " (" << d.never_yielded.size()
        << ", running at both samples, not resumed in between):\n";
    std::size_t shown = 0;
    for (const auto& ch : d.never_yielded) {
      if (over(shown, d.never_yielded.size(), opt, out)) break;
      out << "  " << paint(magenta, "!") << ' ' << ch.after->id << "  resumes " << ch.after->resumes
          << "  " << format_top_frame(tables, ch.after->stack) << '\n';
    }
  }
  out << '\n';
}

void write_summary_text(std::ostream& out, const diff_summary& s, const symbol_tables& tables,
                        const text_options& opt) {
  painter paint(opt.color);
  auto site_text = [&](std::uint32_t site) {
    return site < tables.sites.size() ? format_location(tables.sites[site]) : std::string("?");
  };
  out << paint(bold, "=== summary: samples " + std::to_string(s.first_seq) + ".." +
                         std::to_string(s.last_seq) + " (" + std::to_string(s.samples) +
                         " samples, " +
                         format_duration(saturating_sub(s.last_time_ns, s.first_time_ns)) + ")")
      << '\n';
  out << "goroutines: " << s.goroutines_seen << " seen, " << s.alive_start << " at start, "
      << s.alive_end << " at end, " << paint(green, std::to_string(s.created) + " created") << ", "
      << paint(red, std::to_string(s.exited) + " exited") << "\n\n";
  write_findings_text(out, s, tables, opt);

  if (!s.sites.empty()) {
    out << paint(bold, "spawn sites") << " (most growth first):\n";
    char line[128];
    std::snprintf(line, sizeof line, "  %8s %8s %8s %8s %8s %10s  %s\n", "NET", "START", "END",
                  "CREATED", "EXITED", "PER-SEC", "SITE");
    out << line;
    std::size_t shown = 0;
    for (const auto& g : s.sites) {
      if (over(shown, s.sites.size(), opt, out)) break;
      std::snprintf(
          line, sizeof line, "  %+8lld %8llu %8llu %8llu %8llu %+10.2f  ",
          static_cast<long long>(g.net_growth), static_cast<unsigned long long>(g.alive_start),
          static_cast<unsigned long long>(g.alive_end), static_cast<unsigned long long>(g.created),
          static_cast<unsigned long long>(g.exited), g.growth_per_s);
      out << line << site_text(g.site) << (g.grew_every_window ? "  [grew every window]" : "")
          << '\n';
    }
    out << '\n';
  }

  if (!s.warnings.empty()) {
    out << paint(bold, "warnings") << ":\n";
    for (const auto& w : s.warnings) {
      out << "  " << paint(magenta, "!") << ' ';
      switch (w.what) {
        case summary_warning::kind::never_yielded:
          out << "goroutine " << w.id << " never yielded: running in " << w.samples
              << " consecutive samples (" << format_duration(w.duration_ns)
              << ") with its resumes counter unchanged; it blocks a worker (" << site_text(w.site)
              << ")\n";
          break;
        case summary_warning::kind::site_growing:
          out << "spawn site " << site_text(w.site)
              << ": live goroutines keep growing over the recording and its later half\n";
          break;
        case summary_warning::kind::lost_wakeup:
          out << "goroutine " << w.id << " stayed parked on an object that was ready for it in "
              << w.samples << " samples: a lost wake-up (" << site_text(w.site) << ")\n";
          break;
        case summary_warning::kind::leak_disproved:
          out << "goroutine " << w.id
              << " was proven leaked but ran again: something the runtime cannot see (a "
                 "reference or raw pointer) reached its channel\n";
          break;
      }
    }
    out << '\n';
  }

  // The summary may hold only the first rows (summary_options::keep_goroutines).
  const std::size_t listed =
      std::max<std::size_t>(s.goroutines.size(), static_cast<std::size_t>(s.goroutines_listed));
  if (listed > 0) {
    out << paint(bold, "goroutines") << " (" << listed << "):\n";
    char line[160];
    std::snprintf(line, sizeof line, "  %8s %8s %9s %9s %9s %7s %7s %9s  %-20s %s\n", "ID",
                  "PARENT", "FIRST", "LAST", "LIFETIME", "STATES", "STACKS", "MAX-WAIT",
                  "LAST STATE", "SITE");
    out << line;
    std::size_t shown = 0;
    for (const auto& l : s.goroutines) {
      if (over(shown, listed, opt, out)) break;
      std::string first = l.created_inside ? offset(l.created_ns) : "<start";
      std::string last = l.exited_inside ? offset(l.last_seen_ns) : "end>";
      std::snprintf(line, sizeof line, "  %8llu %8llu %9s %9s %9s %7u %7u %9s  %-20s ",
                    static_cast<unsigned long long>(l.id),
                    static_cast<unsigned long long>(l.parent_id), first.c_str(), last.c_str(),
                    format_duration(l.lifetime_ns()).c_str(), l.state_changes, l.stack_changes,
                    format_duration(l.longest_wait_ns).c_str(),
                    state_text(l.last_state, l.last_reason).c_str());
      out << line << site_text(l.site) << '\n';
      if (s.followed) {
        if (std::string labels = format_labels(l.labels); !labels.empty()) {
          out << "      labels: " << labels << '\n';
        }
        for (const auto& p : l.timeline) {
          out << "      " << pad(offset(p.time_ns), 9) << " #" << pad(std::to_string(p.seq), 5);
          if (!p.present) {
            out << paint(red, "gone") << '\n';
            continue;
          }
          std::string st = state_text(p.state, p.reason);
          if (p.state == goroutine_state::waiting && p.wait_ns > 0) {
            st += " (" + format_duration(p.wait_ns) + ")";
          }
          out << pad(st, 24) << "  " << format_top_frame(tables, p.stack) << '\n';
        }
      }
    }
    if (shown == s.goroutines.size() && listed > shown) {
      out << "  ... " << listed - shown << " more\n";
    }
  }
}

}  // namespace gprofid
