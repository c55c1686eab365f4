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

live_lifecycle summary_builder::start(const goroutine_sample& g, const instant& s) {
  live_lifecycle l;
  l.id = g.id;
  l.parent_id = g.parent_id;
  l.site = g.site;
  l.created_ns = g.created_ns;
  l.first_index = s.index;  // created_inside: not the first sample
  l.longest_wait_ns = g.wait_ns;
  l.longest_wait_reason = g.reason;
  remember_last(l, g, s);
  if (g.state == goroutine_state::running) {
    l.hog_run = 1;
    l.hog_since_ns = s.time_ns;
  }
  if (follow_) extras_for(l).timeline.push_back(point_of(g, s));
  return l;
}

lifecycle_extras& summary_builder::extras_for(live_lifecycle& l) {
  if (l.extras == live_lifecycle::no_extras) {
    if (free_extras_.empty()) {
      l.extras = static_cast<std::uint32_t>(extras_.size());
      extras_.emplace_back();
    } else {
      l.extras = free_extras_.back();
      free_extras_.pop_back();
    }
  }
  return extras_[l.extras];
}

goroutine_lifecycle summary_builder::lifecycle_of(live_lifecycle& l, bool final) {
  goroutine_lifecycle out;
  static_cast<lifecycle_state&>(out) = l;
  out.first_seq = seqs_[l.first_index - 1];
  out.first_seen_ns = times_[l.first_index - 1];
  out.last_seq = seqs_[l.last_index - 1];
  out.last_seen_ns = times_[l.last_index - 1];
  out.created_inside = l.created_inside();
  if (l.extras != live_lifecycle::no_extras) {
    lifecycle_extras& x = extras_[l.extras];
    if (final) {
      static_cast<lifecycle_extras&>(out) = std::move(x);
    } else {
      static_cast<lifecycle_extras&>(out) = x;
    }
  }
  return out;
}

void summary_builder::update(live_lifecycle& l, const goroutine_sample& g, const instant& s) {
  // Only live goroutines are updated: an id back after it was gone (a hand-made or hostile
  // recording) was dropped when it went and starts a new lifecycle.
  const std::int64_t last_seen_ns = times_[l.last_index - 1];
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
  if (wait_continues(before, last_seen_ns, g, s.time_ns, *tables_)) {
    if (l.run_samples == 0) {
      l.run_samples = 1;
      l.run_since_ns = last_seen_ns;
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
  if (l.extras != live_lifecycle::no_extras) {
    lifecycle_extras& x = extras_[l.extras];
    if (x.leaked && g.resumes != x.leak_resumes) {
      // A proven leak ran again: the proof was wrong (a handle the runtime cannot see, such as
      // a chan<T>& into a leaked goroutine's frame). Say so once and stop calling it leaked.
      x.leaked = false;
      out_.warnings.push_back({summary_warning::kind::leak_disproved, l.id, l.site, 0,
                               saturating_sub(s.time_ns, times_[l.first_index - 1])});
    }
  }
  if (follow_ && (state_changed || stack_changed)) {
    extras_for(l).timeline.push_back(point_of(g, s));
  }
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

live_lifecycle* summary_builder::find(std::uint64_t id) {
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
    if (live_lifecycle* l = find(g.id)) {
      // Once tracked, always tracked: a label set later must not fake an exit.
      present += l->last_index != at.index;
      update(*l, g, at);
      count_site(l->site);
      continue;
    }
    if (identity && !filter_.matches_identity(g, tables)) continue;
    live_.insert(g.id, start(g, at));
    ++present;
    count_site(g.site);
  }
  if (present < live_.size()) {
    // The tracked goroutines this sample lacks are gone, in id order (as changes list them).
    std::vector<std::uint64_t> gone;
    live_.for_each([&](const live_lifecycle& l) {
      if (l.last_index != at.index) gone.push_back(l.id);
    });
    std::sort(gone.begin(), gone.end());
    for (std::uint64_t id : gone) retire(id, at);
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
  auto find = [&](std::uint64_t id) -> live_lifecycle* {
    live_lifecycle* l = this->find(id);
    if (l) catch_up(*l, out_.samples);
    return l;
  };
  for (const auto& c : d.deadlocks) {
    for (std::uint64_t id : c.goroutines) {
      if (auto* l = find(id)) extras_for(*l).deadlocked = true;
    }
    for (std::uint64_t id : c.blocked_behind) {
      if (auto* l = find(id)) extras_for(*l).behind_deadlock = true;
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
    live_lifecycle* l = find(leak.id);
    const goroutine_sample* g = find_goroutine(s, leak.id);
    if (!l || !g) continue;
    if (const lifecycle_extras* x = extras_of(*l); x && x->leaked) continue;
    lifecycle_extras& x = extras_for(*l);
    x.leaked = true;
    x.leaked_seq = s.seq;
    x.leaked_ns = s.time_ns;
    x.leak_kind = leak.rule;
    x.leak_channels.clear();
    for (const std::uint64_t c : leak.channels) {
      const wait_object* o = find_object(s, c);
      x.leak_channels.emplace_back(c, o ? o->handles : 0);
    }
    x.leak_resumes = g->resumes;
  }
  for (const auto& lw : d.lost_wakeups) {
    live_lifecycle* l = find(lw.id);
    if (!l) continue;
    lifecycle_extras& x = extras_for(*l);
    // Consecutive only while it stays in one continuing wait on the same object.
    x.lost_wakeup_samples =
        x.lost_wakeup_object == lw.object && l->run_samples > 0 ? x.lost_wakeup_samples + 1 : 1;
    x.lost_wakeup_object = lw.object;
    if (x.lost_wakeup_samples == 2) {
      const goroutine_sample* g = find_goroutine(s, lw.id);
      out_.lost_wakeups.push_back(
          {{lw.id, l->site, l->labels, g ? g->stack : l->last_stack}, lw.object, 2, lw.why});
    } else if (x.lost_wakeup_samples > 2) {
      for (auto& r : out_.lost_wakeups) {
        if (r.id == lw.id && r.object == lw.object) r.samples = x.lost_wakeup_samples;
      }
    }
  }
}

diff_summary summary_builder::finish() {
  std::vector<live_lifecycle*> live;
  live.reserve(live_.size());
  live_.for_each([&](live_lifecycle& l) {
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
    if (l->created_inside()) ++out.created;
    if (!l->created_inside()) ++out.alive_start;
    ++out.alive_end;
    if (l->site < sites.size()) sites[l->site].created += l->created_inside();
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

  // The longest stuck of the live ones made whole, not every live one that is stuck.
  auto longer = [](const auto& a, const auto& b) {
    if (a.stuck_ns != b.stuck_ns) return a.stuck_ns > b.stuck_ns;
    return a.id < b.id;
  };
  std::vector<live_lifecycle*> live_stuck;
  for (auto* l : live) {
    if (l->stuck_samples >= 2 && l->stuck_ns >= filter_.min_stuck_ns) live_stuck.push_back(l);
  }
  const std::size_t live_top = std::min(live_stuck.size(), top_stuck_);
  std::partial_sort(live_stuck.begin(), live_stuck.begin() + static_cast<std::ptrdiff_t>(live_top),
                    live_stuck.end(), [&](const auto* a, const auto* b) { return longer(*a, *b); });
  std::vector<goroutine_lifecycle> stuck = std::move(r.longest_stuck);
  for (std::size_t i = 0; i < live_top; ++i) stuck.push_back(lifecycle_of(*live_stuck[i], false));
  std::sort(stuck.begin(), stuck.end(), longer);
  if (stuck.size() > top_stuck_) stuck.resize(top_stuck_);
  out.longest_stuck = std::move(stuck);
  classify(out, live);  // with the retired candidates

  out.followed = follow_;
  out.goroutines_listed = r.listed;
  std::vector<goroutine_lifecycle> kept = std::move(r.kept);
  const std::size_t keep = options_.keep_goroutines;
  std::size_t live_kept = 0;
  for (auto* l : live) {
    goroutine_lifecycle whole = lifecycle_of(*l, true);
    if (!listed(whole)) continue;
    ++out.goroutines_listed;
    if (sink_) sink_(whole, follow_, *tables_);
    // In id order: past the first `keep` live ones, none can be among the first `keep`.
    if (live_kept < keep) {
      kept.push_back(std::move(whole));
      ++live_kept;
    }
  }
  std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  if (kept.size() > keep) kept.resize(keep);
  out.goroutines = std::move(kept);
  live_.clear();
  extras_.clear();
  free_extras_.clear();
  retired_ = {};
  return out;
}

}  // namespace gprofid
