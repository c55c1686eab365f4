#include "gprofid/analysis/diff_summary.hpp"
#include "gprofid/saturating.hpp"

#include <algorithm>

#include "gprofid/analysis/wait_rules.hpp"
#include "lifecycle_steps.hpp"

namespace gprofid {
namespace {

using lifecycle_steps::remember_last;

template <class At>
timeline_point point_of(const goroutine_sample& g, const At& s) {
  return {s.seq, s.time_ns, true, g.state, g.reason, g.stack, g.wait_ns};
}

}  // namespace

std::string_view to_string(summary_warning::kind k) noexcept {
  switch (k) {
    case summary_warning::kind::never_yielded:
      return "never-yielded";
    case summary_warning::kind::site_growing:
      return "site-growing";
    case summary_warning::kind::lost_wakeup:
      return "lost-wakeup";
    case summary_warning::kind::leak_disproved:
      return "leak-disproved";
  }
  return "unknown";
}

std::int64_t goroutine_lifecycle::lifetime_ns() const noexcept {
  return saturating_sub(last_seen_ns, created_inside ? created_ns : first_seen_ns);
}

std::int64_t goroutine_lifecycle::lifetime_max_ns() const noexcept {
  if (!exited_inside) return lifetime_ns();
  return saturating_sub(gone_ns, created_inside ? created_ns : first_seen_ns);
}

goroutine_lifecycle summary_builder::start(const goroutine_sample& g, const instant& s,
                                           bool first_sample) {
  goroutine_lifecycle l;
  l.id = g.id;
  l.parent_id = g.parent_id;
  l.site = g.site;
  l.created_ns = g.created_ns;
  l.first_seq = s.seq;
  l.first_seen_ns = s.time_ns;
  l.created_inside = !first_sample;
  l.longest_wait_ns = g.wait_ns;
  l.longest_wait_reason = g.reason;
  remember_last(l, g, s);
  if (g.state == goroutine_state::running) {
    l.hog_run = 1;
    l.hog_since_ns = s.time_ns;
  }
  if (follow_) l.timeline.push_back(point_of(g, s));
  return l;
}

void summary_builder::update(goroutine_lifecycle& l, const goroutine_sample& g, const instant& s) {
  if (!l.alive) {
    // Back after being gone: only a hand-made or hostile recording reuses an id. It is alive
    // again, so it is not counted as exited.
    l.alive = true;
    l.exited_inside = false;
    l.gone_ns = 0;
  }
  const bool state_changed = l.last_state != g.state || l.last_reason != g.reason;
  const bool stack_changed = !same_stack(*tables_, l.last_stack, g.stack);
  l.state_changes += state_changed;
  l.stack_changes += stack_changed;
  // The previous sample as it was seen, for the shared continuing-wait rule.
  goroutine_sample before = g;
  before.state = l.last_state;
  before.reason = l.last_reason;
  before.stack = l.last_stack;
  before.resumes = l.last_resumes;
  before.wait_ns = l.last_wait_ns;
  if (wait_continues(before, l.last_seen_ns, g, s.time_ns, *tables_)) {
    if (l.run_samples == 0) {
      l.run_samples = 1;
      l.run_since_ns = l.last_seen_ns;
    }
    ++l.run_samples;
    lifecycle_steps::note_stuck(l, std::max(saturating_sub(s.time_ns, l.run_since_ns), g.wait_ns),
                                g);
  } else {
    l.run_samples = 0;
  }
  // tokio-console's "never yielded": running at both instants without having been resumed in
  // between, so it held its worker the whole time.
  if (g.state == goroutine_state::running) {
    if (l.hog_run > 0 && run_continues(before, g)) {
      ++l.hog_run;
      if (l.hog_run > l.hog_samples) {
        l.hog_samples = l.hog_run;
        l.hog_ns = saturating_sub(s.time_ns, l.hog_since_ns);
      }
    } else {
      l.hog_run = 1;
      l.hog_since_ns = s.time_ns;
    }
  } else {
    l.hog_run = 0;
  }
  lifecycle_steps::note_longest_wait(l, g);
  if (l.leaked && g.resumes != l.leak_resumes) {
    // A proven leak ran again: the proof was wrong (a handle the runtime cannot see, such as a
    // chan<T>& into a leaked goroutine's frame). Say so once and stop calling it leaked.
    l.leaked = false;
    out_.warnings.push_back({summary_warning::kind::leak_disproved, l.id, l.site, 0,
                             saturating_sub(s.time_ns, l.first_seen_ns)});
  }
  if (follow_ && (state_changed || stack_changed)) l.timeline.push_back(point_of(g, s));
  remember_last(l, g, s);
}

void summary_builder::note_gone(goroutine_lifecycle& l, const instant& s) {
  l.alive = false;
  l.exited_inside = true;
  l.gone_ns = s.time_ns;
  l.run_samples = 0;
  l.hog_run = 0;
  if (follow_) l.timeline.push_back({s.seq, s.time_ns, false, l.last_state, l.last_reason, 0, 0});
}

void summary_builder::begin_sample(const instant& at) {
  if (at.index == 1) {
    follow_ = !filter_.ids.empty() || !filter_.labels.empty();
    out_.first_seq = at.seq;
    out_.first_time_ns = at.time_ns;
  }
  out_.last_seq = at.seq;
  out_.last_time_ns = at.time_ns;
  // Past 2^60 ns (36 years) a recording is hand-made or hostile, and sums may saturate.
  constexpr std::int64_t huge = std::int64_t{1} << 60;
  if (times_.empty() || at.time_ns <= times_.back() || at.time_ns >= huge || at.time_ns <= -huge) {
    last_irregular_ = at.index;
  }
  times_.push_back(at.time_ns);
  seqs_.push_back(at.seq);
}

goroutine_lifecycle* summary_builder::find(std::uint64_t id) {
  return live_.find(id);
}

void summary_builder::add(const sample& s, const symbol_tables& tables) {
  tables_ = &tables;
  const bool first = out_.samples == 0;
  ++out_.samples;
  const instant at{s.seq, s.time_ns, out_.samples};
  begin_sample(at);

  std::vector<std::uint64_t> alive(tables.sites.size(), 0);
  auto count_site = [&](std::uint32_t site) {
    if (site >= alive.size()) alive.resize(site + 1, 0);
    ++alive[site];
  };
  const bool identity = filter_.has_identity();
  std::size_t present = 0;  // tracked goroutines found in this sample
  for (const goroutine_sample& g : s.goroutines) {
    if (goroutine_lifecycle* l = find(g.id)) {
      // Once tracked, always tracked: a label set later must not fake an exit.
      present += l->last_index != at.index;
      update(*l, g, at);
      count_site(l->site);
      continue;
    }
    if (identity && !filter_.matches_identity(g, tables)) continue;
    live_.insert(g.id, start(g, at, first));
    ++present;
    count_site(g.site);
  }
  if (present < live_.size()) {
    // The tracked goroutines this sample lacks are gone, in id order (as changes list them).
    std::vector<std::uint64_t> gone;
    live_.for_each([&](const goroutine_lifecycle& l) {
      if (l.last_index != at.index) gone.push_back(l.id);
    });
    std::sort(gone.begin(), gone.end());
    for (std::uint64_t id : gone) {
      note_gone(*live_.find(id), at);
      retire(id);
    }
  }

  note_graph(s);
  count_sites(std::move(alive), first);
}

void summary_builder::count_sites(std::vector<std::uint64_t> alive, bool first) {
  if (site_counts_.size() < alive.size()) site_counts_.resize(alive.size());
  // Only sites ever seen alive keep a count per sample (the others stay empty: all zeros).
  for (std::size_t i = 0; i < site_counts_.size(); ++i) {
    const std::uint64_t n = i < alive.size() ? alive[i] : 0;
    auto& counts = site_counts_[i];
    if (counts.empty() && n == 0) continue;
    if (counts.empty()) counts.assign(times_.size() - 1, 0);
    counts.push_back(static_cast<std::uint32_t>(std::min<std::uint64_t>(n, UINT32_MAX)));
  }
  if (first) {
    site_alive_start_ = alive;
  } else {
    ++windows_;
    site_grew_.resize(std::max(site_grew_.size(), alive.size()), 1);
    for (std::size_t i = 0; i < site_grew_.size(); ++i) {
      std::uint64_t before = i < site_alive_.size() ? site_alive_[i] : 0;
      std::uint64_t now = i < alive.size() ? alive[i] : 0;
      if (now <= before) site_grew_[i] = 0;
    }
  }
  site_alive_ = std::move(alive);
}

void summary_builder::note_graph(const sample& s) {
  const wait_diagnosis d = diagnose(s);
  // Brought up to date with this sample first (with changes, unchanged ones lag behind).
  auto find = [&](std::uint64_t id) -> goroutine_lifecycle* {
    goroutine_lifecycle* l = this->find(id);
    if (l) catch_up(*l, out_.samples);
    return l;
  };
  for (const auto& c : d.deadlocks) {
    for (std::uint64_t id : c.goroutines) {
      if (auto* l = find(id)) l->deadlocked = true;
    }
    for (std::uint64_t id : c.blocked_behind) {
      if (auto* l = find(id)) l->behind_deadlock = true;
    }
    auto same = std::find_if(cycles_.begin(), cycles_.end(), [&](const deadlock_report& r) {
      return r.cycle.goroutines == c.goroutines;
    });
    if (same == cycles_.end()) {
      cycles_.push_back({c, {}, s.seq, s.time_ns, s.seq});
      same = cycles_.end() - 1;
    }
    same->cycle = c;  // blocked_behind grows as more pile up
    same->last_seq = s.seq;
    same->members.clear();
    for (std::size_t i = 0; i < c.goroutines.size(); ++i) {
      deadlock_member& m = same->members.emplace_back();
      m.id = c.goroutines[i];
      if (const goroutine_sample* g = find_goroutine(s, m.id)) {
        m.site = g->site;
        m.labels = g->labels;
        m.stack = g->stack;
      }
      const wait_object* o = find_object(s, c.objects[i]);
      m.locked_at = o ? o->locked_at : 0;
    }
  }
  for (const auto& leak : d.leaked) {
    goroutine_lifecycle* l = find(leak.id);
    const goroutine_sample* g = find_goroutine(s, leak.id);
    if (!l || !g || l->leaked) continue;
    l->leaked = true;
    l->leaked_seq = s.seq;
    l->leaked_ns = s.time_ns;
    l->leak_kind = leak.rule;
    l->leak_channels = static_cast<std::uint32_t>(leak.channels.size());
    l->leak_handles = leak.handles;
    l->leak_resumes = g->resumes;
  }
  for (const auto& lw : d.lost_wakeups) {
    goroutine_lifecycle* l = find(lw.id);
    if (!l) continue;
    // Consecutive only while it stays in one continuing wait on the same object.
    l->lost_wakeup_samples =
        l->lost_wakeup_object == lw.object && l->run_samples > 0 ? l->lost_wakeup_samples + 1 : 1;
    l->lost_wakeup_object = lw.object;
    if (l->lost_wakeup_samples == 2) {
      const goroutine_sample* g = find_goroutine(s, lw.id);
      out_.lost_wakeups.push_back(
          {{lw.id, l->site, l->labels, g ? g->stack : l->last_stack}, lw.object, 2, lw.why});
    } else if (l->lost_wakeup_samples > 2) {
      for (auto& r : out_.lost_wakeups) {
        if (r.id == lw.id && r.object == lw.object) r.samples = l->lost_wakeup_samples;
      }
    }
  }
}

diff_summary summary_builder::finish() {
  std::vector<const goroutine_lifecycle*> live;
  live.reserve(live_.size());
  live_.for_each([&](goroutine_lifecycle& l) {
    catch_up(l, out_.samples);
    live.push_back(&l);
  });
  std::sort(live.begin(), live.end(), [](const auto* a, const auto* b) { return a->id < b->id; });
  retired_state& r = retired_;
  diff_summary out = std::move(out_);
  out_ = {};
  const double span_s =
      static_cast<double>(saturating_sub(out.last_time_ns, out.first_time_ns)) / 1e9;

  std::size_t nsites = std::max(site_alive_.size(), site_alive_start_.size());
  std::vector<site_growth> sites(nsites);
  for (std::size_t i = 0; i < nsites; ++i) {
    sites[i].site = static_cast<std::uint32_t>(i);
    sites[i].alive_start = i < site_alive_start_.size() ? site_alive_start_[i] : 0;
    sites[i].alive_end = i < site_alive_.size() ? site_alive_[i] : 0;
    sites[i].windows = windows_;
    sites[i].grew_every_window = windows_ >= 2 && i < site_grew_.size() && site_grew_[i];
    sites[i].created = i < r.site_created.size() ? r.site_created[i] : 0;
    sites[i].exited = i < r.site_exited.size() ? r.site_exited[i] : 0;
  }
  out.goroutines_seen = r.seen;
  out.created = r.created;
  out.exited = r.seen;  // every retired goroutine exited inside the recording
  out.alive_start = r.alive_start;
  for (const auto* l : live) {
    ++out.goroutines_seen;
    if (l->created_inside) ++out.created;
    if (!l->created_inside) ++out.alive_start;
    ++out.alive_end;
    if (l->site < sites.size()) sites[l->site].created += l->created_inside;
  }
  for (auto& s : sites) {
    s.net_growth =
        static_cast<std::int64_t>(s.alive_end) - static_cast<std::int64_t>(s.alive_start);
    s.growth_per_s = span_s > 0 ? static_cast<double>(s.net_growth) / span_s : 0;
  }
  std::erase_if(sites, [](const site_growth& s) {
    return s.alive_start == 0 && s.alive_end == 0 && s.created == 0;
  });
  std::stable_sort(sites.begin(), sites.end(), [](const site_growth& a, const site_growth& b) {
    if (a.net_growth != b.net_growth) return a.net_growth > b.net_growth;
    if (a.grew_every_window != b.grew_every_window) return a.grew_every_window;
    return a.created > b.created;
  });
  out.sites = std::move(sites);
  trends(out);

  // Every never-yielded goroutine, live or not, by id.
  std::vector<summary_warning> hogs = std::move(r.never_yielded_warnings);
  for (const auto* l : live) {
    if (l->hog_samples >= 2 && l->hog_ns >= options_.never_yielded_ns) {
      hogs.push_back(
          {summary_warning::kind::never_yielded, l->id, l->site, l->hog_samples, l->hog_ns});
    }
  }
  std::sort(hogs.begin(), hogs.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  out.warnings.insert(out.warnings.end(), hogs.begin(), hogs.end());

  std::vector<goroutine_lifecycle> stuck = std::move(r.longest_stuck);
  for (const auto* l : live) {
    if (l->stuck_samples >= 2 && l->stuck_ns >= filter_.min_stuck_ns) stuck.push_back(*l);
  }
  std::sort(stuck.begin(), stuck.end(), [](const auto& a, const auto& b) {
    if (a.stuck_ns != b.stuck_ns) return a.stuck_ns > b.stuck_ns;
    return a.id < b.id;
  });
  if (stuck.size() > top_stuck_) stuck.resize(top_stuck_);
  out.longest_stuck = std::move(stuck);
  classify(out, live);  // with the retired candidates

  out.followed = follow_;
  out.goroutines_listed = r.listed;
  std::vector<goroutine_lifecycle> kept = std::move(r.kept);
  const std::size_t keep = options_.keep_goroutines;
  std::size_t live_kept = 0;
  for (const auto* l : live) {
    if (!listed(*l)) continue;
    ++out.goroutines_listed;
    if (sink_) sink_(*l, follow_, *tables_);
    // In id order: past the first `keep` live ones, none can be among the first `keep`.
    if (live_kept < keep) {
      kept.push_back(std::move(*live_.find(l->id)));
      ++live_kept;
    }
  }
  std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  if (kept.size() > keep) kept.resize(keep);
  out.goroutines = std::move(kept);
  live_.clear();
  retired_ = {};
  return out;
}

}  // namespace gprofid
