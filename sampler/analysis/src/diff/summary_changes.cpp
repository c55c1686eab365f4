// The summary from what changed (summary_builder::add(sample_changes)): a goroutine that did
// not change between samples is not touched; when something needs it (it changes, exits, the
// wait-for graph names it, or the summary ends) the samples it skipped are applied at once.
#include <algorithm>

#include "gprofid/analysis/diff_summary.hpp"
#include "gprofid/analysis/wait_rules.hpp"
#include "gprofid/recording/wait_graph.hpp"
#include "lifecycle_steps.hpp"

namespace gprofid {
namespace {

constexpr std::int64_t huge = std::int64_t{1} << 60;

bool small(std::int64_t v) noexcept {
  return v < huge && v > -huge;
}

bool in_nil_wait(const goroutine_sample& g) noexcept {
  return g.state == goroutine_state::waiting && is_nil_wait(g.reason);
}

}  // namespace

void summary_builder::catch_up(live_lifecycle& l, std::uint64_t index) {
  if (l.last_index >= index) return;
  const std::uint64_t a = l.last_index;  // the sample it was last seen in (1-based)
  const std::int64_t t_a = times_[a - 1];
  // The goroutine as in sample a; unchanged since, but for its wait (sample_changes).
  goroutine_sample g;
  g.id = l.id;
  g.parent_id = l.parent_id;
  g.site = l.site;
  g.stack = l.last_stack;
  g.state = l.last_state;
  g.reason = l.last_reason;
  g.wait_ns = l.last_wait_ns;
  g.labels = l.labels;
  g.resumes = l.last_resumes;
  const std::int64_t w_a = l.last_wait_ns;
  auto at = [&](std::uint64_t k) { return instant{seqs_[k - 1], times_[k - 1], k}; };
  auto wait_at = [&](std::uint64_t k) {
    return predicted_wait(g.state, w_a, g.state,
                          static_cast<std::int64_t>(static_cast<std::uint64_t>(times_[k - 1]) -
                                                    static_cast<std::uint64_t>(t_a)));
  };
  const bool waiting = g.state == goroutine_state::waiting;
  const bool exact = !waiting || (last_irregular_ <= a && small(t_a) && small(w_a) &&
                                  (l.run_samples == 0 || small(l.run_since_ns)));
  if (!exact) {
    // Times that do not increase, or values near the limits: sample by sample, as add() would.
    for (std::uint64_t k = a + 1; k <= index; ++k) {
      g.wait_ns = wait_at(k);
      update(l, g, at(k));
    }
    return;
  }
  // What update() would do k times over, knowing that nothing but the time moved: the state,
  // stack, reason and resumes stay, a wait grows with the time and its start stays put.
  const auto k = static_cast<std::uint32_t>(index - a);
  const instant b = at(index);
  g.wait_ns = wait_at(index);
  if (waiting) {
    // Every step continues the wait (wait_continues); its span grows strictly with the time,
    // so the last step is the longest.
    if (l.run_samples == 0) {
      l.run_samples = 1;
      l.run_since_ns = t_a;
    }
    l.run_samples += k;
    lifecycle_steps::note_stuck(l, std::max(saturating_sub(b.time_ns, l.run_since_ns), g.wait_ns),
                                g);
    l.hog_run = 0;
  } else {
    l.run_samples = 0;
    if (g.state == goroutine_state::running) {
      // Every step continues the run (run_continues): the first one starts it if none is on.
      std::uint32_t steps = k;
      if (l.hog_run == 0) {
        l.hog_run = 1;
        l.hog_since_ns = times_[a];  // the time of sample a + 1
        --steps;
      }
      l.hog_run += steps;
      if (steps > 0 && l.hog_run > l.hog_samples) {
        l.hog_samples = l.hog_run;
        l.hog_ns = saturating_sub(b.time_ns, l.hog_since_ns);
      }
    } else {
      l.hog_run = 0;
    }
  }
  lifecycle_steps::note_longest_wait(l, g);
  // Nothing but the time and the wait moved since sample a: the rest is stored as it was.
  lifecycle_steps::remember_last(l, g, b);
}

void summary_builder::add(const sample_changes& c, const symbol_tables& tables,
                          const std::function<void(sample&)>& whole) {
  tables_ = &tables;
  // A piece continues the sample of the one before (sample_changes::more): the sample is
  // begun once and ended (graph, site counts) with its last piece.
  const bool continues = in_pieces_;
  in_pieces_ = c.more;
  if (!continues) {
    ++out_.samples;
    begin_sample({c.seq, c.time_ns, out_.samples});
  }
  const bool first = out_.samples == 1;
  const instant at{c.seq, c.time_ns, out_.samples};
  if (site_live_.size() < tables.sites.size()) site_live_.resize(tables.sites.size(), 0);
  auto live = [&](std::uint32_t site) -> std::uint64_t& {
    if (site >= site_live_.size()) site_live_.resize(site + 1, 0);
    return site_live_[site];
  };

  // The goroutines named come in id order, scattered over the live set: each lookup and each
  // lifecycle is a cache miss. Loaded some goroutines ahead, the misses overlap.
  auto prefetch = [&](const std::vector<goroutine_sample>& v, std::size_t k) {
    constexpr std::size_t ahead = 16;
    if (k + ahead < v.size()) live_.prefetch_id(v[k + ahead].id);
    if (k + ahead / 2 < v.size()) live_.prefetch_value(v[k + ahead / 2].id);
  };
  for (std::size_t e = 0; e < c.exited.size(); ++e) {
    prefetch(c.exited, e);
    const goroutine_sample& g = c.exited[e];
    nil_waits_ -= in_nil_wait(g);
    live_lifecycle* l = find(g.id);
    if (!l) continue;
    catch_up(*l, at.index - 1);
    --live(l->site);
    retire(g.id, at);
  }
  // Changed and created goroutines in id order, as add(sample) meets them.
  const bool identity = filter_.has_identity();
  std::size_t i = 0, j = 0;
  while (i < c.changed_after.size() || j < c.created.size()) {
    const bool changed = j == c.created.size() ||
                         (i < c.changed_after.size() && c.changed_after[i].id < c.created[j].id);
    const goroutine_sample& g = changed ? c.changed_after[i] : c.created[j];
    if (changed) {
      prefetch(c.changed_after, i);
      nil_waits_ -= in_nil_wait(c.changed_before[i]);
      ++i;
    } else {
      ++j;
    }
    nil_waits_ += in_nil_wait(g);
    if (live_lifecycle* l = find(g.id)) {
      catch_up(*l, at.index - 1);
      update(*l, g, at);
      continue;
    }
    // An id back after it was gone (a hand-made recording) starts a new lifecycle.
    if (identity && !filter_.matches_identity(g, tables)) continue;
    live_.insert(g.id, start(g, at));
    ++live(g.site);
  }
  if (c.more) return;

  if (c.objects > 0 || nil_waits_ > 0) {
    whole(whole_);
    note_graph(whole_);
  }
  count_sites(site_live_, first);  // what add(sample) counts: tracked goroutines per site
}

}  // namespace gprofid
