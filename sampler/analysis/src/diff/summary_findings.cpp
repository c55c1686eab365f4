// The findings of a summary, decided once every sample has been seen: which sites grow, and
// which goroutines are deadlocked, leaked, stuck, hogging a worker, or simply background. The
// rules are in docs/diff-format.md ("Findings").
#include <algorithm>
#include <map>

#include "capped_list.hpp"
#include "gprofid/analysis/diff_summary.hpp"
#include "gprofid/analysis/wait_rules.hpp"

namespace gprofid {
namespace {

constexpr std::int64_t second = 1'000'000'000;

// Least-squares slope of counts[from..] against t (seconds); 0 with fewer than 2 points.
double slope(const std::vector<double>& t, const std::vector<std::uint32_t>& counts,
             std::size_t from) {
  const std::size_t n = t.size() - std::min(from, t.size());
  if (n < 2) return 0;
  double st = 0, sc = 0, stt = 0, stc = 0;
  for (std::size_t i = from; i < t.size(); ++i) {
    const double c = i < counts.size() ? counts[i] : 0;
    st += t[i];
    sc += c;
    stt += t[i] * t[i];
    stc += t[i] * c;
  }
  const double den = static_cast<double>(n) * stt - st * st;
  return den > 0 ? (static_cast<double>(n) * stc - st * sc) / den : 0;
}

template <class T>
void cap(std::vector<T>& v, std::size_t top, std::uint64_t& omitted) {
  if (top != 0 && v.size() > top) {
    omitted = v.size() - top;
    v.resize(top);
  }
}

// Waits a service goroutine sits in between events: a stop or shutdown signal, a ticker, work.
bool service_wait(wait_reason r) noexcept {
  return r == wait_reason::chan_receive || r == wait_reason::select || r == wait_reason::event ||
         r == wait_reason::wait_group || r == wait_reason::sleep;
}

}  // namespace

void summary_builder::trends(diff_summary& out) {
  if (times_.size() < 3) return;
  std::vector<double> t;
  for (std::int64_t x : times_) {
    t.push_back(static_cast<double>(saturating_sub(x, times_[0])) / 1e9);
  }
  const double span = t.back();
  static const std::vector<std::uint32_t> none;
  std::vector<const site_growth*> growing;
  for (auto& s : out.sites) {
    const auto& counts = s.site < site_counts_.size() ? site_counts_[s.site] : none;
    s.trend_per_s = slope(t, counts, 0);
    s.late_trend_per_s = slope(t, counts, t.size() / 2);
    s.growing = s.trend_per_s > 0 && s.late_trend_per_s > 0 &&
                s.net_growth >= options_.min_growth &&
                s.trend_per_s * span >= static_cast<double>(options_.min_growth);
    if (s.growing) growing.push_back(&s);
  }
  std::stable_sort(growing.begin(), growing.end(),
                   [](const auto* a, const auto* b) { return a->trend_per_s > b->trend_per_s; });
  for (const auto* s : growing) {
    out.growing.push_back(s->site);
    out.warnings.push_back({summary_warning::kind::site_growing, 0, s->site,
                            static_cast<std::uint32_t>(s->windows),
                            saturating_sub(out.last_time_ns, out.first_time_ns)});
  }
  cap(out.growing, options_.top, out.omitted.growing);
}

void summary_builder::classify(diff_summary& out, const std::vector<live_lifecycle*>& live) {
  std::vector<std::int64_t> gaps;
  for (std::size_t i = 1; i < times_.size(); ++i) {
    gaps.push_back(saturating_sub(times_[i], times_[i - 1]));
  }
  if (!gaps.empty()) {
    auto mid = gaps.begin() + static_cast<std::ptrdiff_t>(gaps.size() / 2);
    std::nth_element(gaps.begin(), mid, gaps.end());
    out.interval_ns = *mid;
  }
  const std::int64_t three_intervals =
      saturating_add(out.interval_ns, saturating_add(out.interval_ns, out.interval_ns));
  const std::int64_t threshold = options_.stuck_ns > 0      ? options_.stuck_ns
                                 : filter_.min_stuck_ns > 0 ? filter_.min_stuck_ns
                                                            : std::max(second, three_intervals);
  out.stuck_threshold_ns = threshold;
  // Goroutines started with the program (a stop waiter, main, a ticker or worker loop).
  const std::int64_t startup_end = saturating_add(
      out.first_time_ns,
      std::max<std::int64_t>(100'000'000, saturating_add(out.interval_ns, out.interval_ns)));

  out.deadlocks = cycles_;
  cap(out.deadlocks, options_.top, out.omitted.deadlocks);

  std::map<std::uint32_t, leak_report> leaks;
  // Per site, the distinct channels its leaked goroutines wait on, with their handles.
  std::map<std::uint32_t, std::map<std::uint64_t, std::uint32_t>> leak_channels;
  std::map<std::pair<std::uint32_t, wait_reason>, background_group> background;
  // The exited goroutines' candidates (summary_retired.cpp), then the live ones'.
  retired_state& gone = retired_;
  out.never_yielded = std::move(gone.never_yielded);
  std::uint64_t never_yielded = gone.never_yielded_count;
  std::uint64_t stuck_count = fixed_stuck_ns() > 0
                                  ? gone.stuck_count
                                  : static_cast<std::uint64_t>(std::count_if(
                                        gone.stuck_ns.begin(), gone.stuck_ns.end(),
                                        [&](std::int64_t ns) { return ns >= threshold; }));
  for (auto& r : gone.stuck) {
    if (r.stuck_ns >= threshold) out.stuck.push_back(std::move(r));
  }
  static const lifecycle_extras no_extras;
  for (const live_lifecycle* live_one : live) {
    const live_lifecycle& l = *live_one;
    const lifecycle_extras* found = extras_of(l);
    const lifecycle_extras& x = found ? *found : no_extras;
    if (x.leaked) {
      leak_report& r = leaks[l.site];
      r.site = l.site;
      r.goroutines.push_back(l.id);
      (x.leak_kind == leak_rule::nil_wait ? r.nil_waits : r.closed_set) += 1;
      leak_channels[l.site].insert(x.leak_channels.begin(), x.leak_channels.end());
      if (r.goroutines.size() == 1 || x.leaked_ns < r.first_proven_ns) {
        r.first_proven_ns = x.leaked_ns;
      }
      continue;
    }
    if (x.deadlocked || x.behind_deadlock) continue;
    if (l.hog_samples >= 2 && l.hog_ns >= options_.never_yielded_ns) {
      out.never_yielded.push_back(
          {{l.id, l.site, l.labels, l.last_stack}, l.hog_samples, l.hog_ns});
      ++never_yielded;
    }
    const bool waiting_at_end = l.last_state == goroutine_state::waiting;
    const bool background_wait =
        waiting_at_end && (l.last_reason == wait_reason::io_wait ||
                           (service_wait(l.last_reason) && l.created_ns <= startup_end));
    const bool stuck = l.stuck_samples >= 2 && l.stuck_ns >= threshold;
    const bool ongoing = waiting_at_end && l.run_samples > 0 && l.run_since_ns == l.stuck_since_ns;
    if (stuck && !(background_wait && ongoing)) {
      out.stuck.push_back({{l.id, l.site, l.labels, l.stuck_stack},
                           l.stuck_reason,
                           l.stuck_ns,
                           l.stuck_since_ns,
                           l.stuck_samples,
                           ongoing});
      ++stuck_count;
    } else if (background_wait) {
      background_group& b = background[{l.site, l.last_reason}];
      b.site = l.site;
      b.reason = l.last_reason;
      if (b.goroutines.empty()) b.stack = l.last_stack;
      b.goroutines.push_back(l.id);
    }
  }
  for (auto& [site, r] : leaks) {
    const auto& chans = leak_channels[site];
    r.channels = chans.size();
    for (const auto& [id, handles] : chans) r.handles += handles;
    out.leaks.push_back(std::move(r));
  }
  std::stable_sort(out.leaks.begin(), out.leaks.end(), [](const auto& a, const auto& b) {
    return a.goroutines.size() > b.goroutines.size();
  });
  cap(out.leaks, options_.top, out.omitted.leaks);
  capped_list::rank(out.stuck, options_.top, stuck_count, out.omitted.stuck,
                    [](const auto& a, const auto& b) {
                      if (a.stuck_ns != b.stuck_ns) return a.stuck_ns > b.stuck_ns;
                      return a.id < b.id;
                    });
  capped_list::rank(out.never_yielded, options_.top, never_yielded, out.omitted.never_yielded,
                    [](const auto& a, const auto& b) {
                      if (a.duration_ns != b.duration_ns) return a.duration_ns > b.duration_ns;
                      return a.id < b.id;
                    });
  for (auto& [key, b] : background) out.background.push_back(std::move(b));
  std::stable_sort(out.background.begin(), out.background.end(), [](const auto& a, const auto& b) {
    return a.goroutines.size() > b.goroutines.size();
  });
  cap(out.background, options_.top, out.omitted.background);
  for (const auto& lw : out.lost_wakeups) {
    out.warnings.push_back({summary_warning::kind::lost_wakeup, lw.id, lw.site, lw.samples, 0});
  }
  cap(out.lost_wakeups, options_.top, out.omitted.lost_wakeups);
}

}  // namespace gprofid
