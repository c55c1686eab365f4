#include "gprofid/analysis/diff.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "gprofid/analysis/wait_rules.hpp"
#include "gprofid/labels.hpp"
#include "gprofid/saturating.hpp"

namespace gprofid {

bool goroutine_filter::matches_identity(const goroutine_sample& g,
                                        const symbol_tables& tables) const {
  if (!ids.empty() && std::find(ids.begin(), ids.end(), g.id) == ids.end()) return false;
  for (const auto& [key, value] : labels) {
    const std::string* v = g.labels ? find_label(*g.labels, key) : nullptr;
    if (!v || *v != value) return false;
  }
  if (!site.empty()) {
    if (g.site >= site_verdicts_.size()) site_verdicts_.resize(g.site + 1, -1);
    std::int8_t& verdict = site_verdicts_[g.site];
    if (verdict < 0) {
      verdict = 0;
      if (g.site < tables.sites.size()) {
        const code_location& loc = tables.sites[g.site];
        std::string text = loc.function + " " + loc.file + ":" + std::to_string(loc.line);
        verdict = text.find(site) != std::string::npos ? 1 : 0;
      }
    }
    if (verdict == 0) return false;
  }
  return true;
}

bool goroutine_filter::matches_state(const goroutine_sample& g) const noexcept {
  if (state && g.state != *state) return false;
  if (reason && (g.state != goroutine_state::waiting || g.reason != *reason)) return false;
  return true;
}

bool goroutine_filter::set_state(std::string_view text) {
  if (auto s = parse_goroutine_state(text)) {
    state = s;
    return true;
  }
  if (auto r = parse_wait_reason_any(text); r && *r != wait_reason::none) {
    reason = r;
    return true;
  }
  return false;
}

bool same_stack(const symbol_tables& tables, std::uint32_t a, std::uint32_t b) noexcept {
  if (a == b) return true;
  if (a >= tables.stacks.size() || b >= tables.stacks.size()) return false;
  const auto& sa = tables.stacks[a];
  const auto& sb = tables.stacks[b];
  if (sa.size() != sb.size()) return false;
  for (std::size_t i = 0; i < sa.size(); ++i) {
    if (sa[i] == sb[i]) continue;
    if (sa[i] >= tables.frames.size() || sb[i] >= tables.frames.size()) return false;
    if (!(tables.frames[sa[i]] == tables.frames[sb[i]])) return false;
  }
  return true;
}

namespace {

bool same_wait(const goroutine_sample& a, const goroutine_sample& b) noexcept {
  return a.state == b.state && a.reason == b.reason;
}

}  // namespace

pair_diff diff_engine::next(const sample& before, const sample& after,
                            const symbol_tables& tables) {
  pair_diff d;
  d.before = &before;
  d.after = &after;
  d.from_seq = before.seq;
  d.to_seq = after.seq;
  d.from_time_ns = before.time_ns;
  d.to_time_ns = after.time_ns;
  if (!last_seq_ || *last_seq_ != before.seq) runs_.clear();
  last_seq_ = after.seq;

  const bool filtering = has_identity_or_state();
  std::vector<stuck_run> runs;
  auto old_run = runs_.begin();
  auto counted = [&](const goroutine_sample& g) {
    return !filtering || filter_.matches(g, tables);
  };

  const auto& a = before.goroutines;
  const auto& b = after.goroutines;
  std::size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (j == b.size() || (i < a.size() && a[i].id < b[j].id)) {
      const goroutine_sample& g = a[i++];
      if (!counted(g)) continue;
      ++d.counts.before;
      if (filter_.min_stuck_ns == 0) d.exited.push_back(&g);
      continue;
    }
    if (i == a.size() || b[j].id < a[i].id) {
      const goroutine_sample& g = b[j++];
      if (!counted(g)) continue;
      ++d.counts.after;
      if (filter_.min_stuck_ns == 0) d.created.push_back(&g);
      continue;
    }
    const goroutine_sample& x = a[i++];
    const goroutine_sample& y = b[j++];
    const bool stack_same = same_stack(tables, x.stack, y.stack);
    // Runs are carried for every goroutine, filtered or not, so a filter never shortens one.
    std::int64_t stuck_for = 0;
    std::uint32_t run_samples = 0;
    std::int64_t since = 0;
    bool reported_before = false;  // the previous pair listed this run as stuck
    if (stack_same && wait_continues(x, before.time_ns, y, after.time_ns, tables)) {
      while (old_run != runs_.end() && old_run->id < y.id) ++old_run;
      const bool continues = old_run != runs_.end() && old_run->id == y.id;
      run_samples = continues ? old_run->samples + 1 : 2;
      since = continues ? old_run->since_ns : before.time_ns;
      runs.push_back({y.id, run_samples, since});
      stuck_for = std::max(saturating_sub(after.time_ns, since), y.wait_ns);
      reported_before = continues && std::max(saturating_sub(before.time_ns, since), x.wait_ns) >=
                                         filter_.min_stuck_ns;
    }
    const bool in_before = counted(x);
    const bool in_after = counted(y);
    d.counts.before += in_before;
    d.counts.after += in_after;
    // A change is reported when either side matches: "--state waiting" shows what began waiting.
    if (!in_before && !in_after) continue;
    if (filter_.min_stuck_ns > 0 && (run_samples == 0 || stuck_for < filter_.min_stuck_ns)) {
      continue;
    }
    if (!same_wait(x, y)) d.state_changes.push_back({&x, &y});
    if (!stack_same) d.stack_changes.push_back({&x, &y});
    if (run_samples > 0 && in_after) {
      d.stuck.push_back({&y, run_samples, since, stuck_for, !reported_before});
    }
    if (run_continues(x, y)) {
      d.never_yielded.push_back({&x, &y});
    }
  }
  runs_ = std::move(runs);
  d.counts.created = d.created.size();
  d.counts.exited = d.exited.size();
  d.counts.state_changed = d.state_changes.size();
  d.counts.stack_changed = d.stack_changes.size();
  d.counts.stuck = d.stuck.size();
  d.counts.never_yielded = d.never_yielded.size();
  return d;
}

bool diff_engine::has_identity_or_state() const noexcept {
  return filter_.has_identity() || filter_.state || filter_.reason;
}

pair_diff diff_samples(const sample& before, const sample& after, const symbol_tables& tables,
                       const goroutine_filter& filter) {
  diff_engine engine(filter);
  return engine.next(before, after, tables);
}

namespace {

using location_key = std::tuple<std::string, std::string, std::uint32_t, std::uint64_t>;

location_key key_of(const code_location& l) {
  return {l.function, l.file, l.line, l.pc};
}
const std::vector<std::uint32_t>& key_of(const std::vector<std::uint32_t>& s) {
  return s;
}

// Interns values of one table into another by content.
template <class T, class Key>
class interner {
 public:
  explicit interner(std::vector<T>& dst) : dst_(dst) {
    for (std::uint32_t i = 0; i < dst_.size(); ++i) index_.emplace(key_of(dst_[i]), i);
  }
  std::uint32_t intern(const T& v) {
    auto [it, inserted] = index_.emplace(key_of(v), static_cast<std::uint32_t>(dst_.size()));
    if (inserted) dst_.push_back(v);
    return it->second;
  }

 private:
  std::vector<T>& dst_;
  std::map<Key, std::uint32_t> index_;
};

}  // namespace

sample import_sample(const sample& s, const symbol_tables& src, symbol_tables& dst) {
  interner<code_location, location_key> sites(dst.sites);
  interner<code_location, location_key> frames(dst.frames);
  interner<std::vector<std::uint32_t>, std::vector<std::uint32_t>> stacks(dst.stacks);
  std::vector<std::int64_t> site_map(src.sites.size(), -1);
  std::vector<std::int64_t> stack_map(src.stacks.size(), -1);
  std::vector<std::int64_t> frame_map(src.frames.size(), -1);
  sample out = s;
  for (auto& g : out.goroutines) {
    if (g.site < src.sites.size()) {
      if (site_map[g.site] < 0) site_map[g.site] = sites.intern(src.sites[g.site]);
      g.site = static_cast<std::uint32_t>(site_map[g.site]);
    }
    if (g.stack < src.stacks.size()) {
      if (stack_map[g.stack] < 0) {
        std::vector<std::uint32_t> mapped;
        for (std::uint32_t f : src.stacks[g.stack]) {
          if (f >= src.frames.size()) continue;
          if (frame_map[f] < 0) frame_map[f] = frames.intern(src.frames[f]);
          mapped.push_back(static_cast<std::uint32_t>(frame_map[f]));
        }
        stack_map[g.stack] = stacks.intern(mapped);
      }
      g.stack = static_cast<std::uint32_t>(stack_map[g.stack]);
    }
  }
  return out;
}

}  // namespace gprofid
