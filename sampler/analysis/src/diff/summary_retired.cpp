// A goroutine's lifecycle is final once it exits: the summary folds it then into the totals, the
// per-site counts and the capped candidate lists (what finish() needs of it), hands it to the
// sink, and drops it. So the summary holds the live goroutines, not every goroutine ever seen.
#include <algorithm>

#include "capped_list.hpp"
#include "gprofid/analysis/diff_summary.hpp"

namespace gprofid {
namespace {

constexpr std::int64_t second = 1'000'000'000;

std::uint64_t& at_site(std::vector<std::uint64_t>& v, std::uint32_t site) {
  if (site >= v.size()) v.resize(std::size_t{site} + 1, 0);
  return v[site];
}

bool longer_stuck(const goroutine_lifecycle& a, const goroutine_lifecycle& b) {
  if (a.stuck_ns != b.stuck_ns) return a.stuck_ns > b.stuck_ns;
  return a.id < b.id;
}

}  // namespace

std::int64_t summary_builder::fixed_stuck_ns() const noexcept {
  return options_.stuck_ns > 0 ? options_.stuck_ns : filter_.min_stuck_ns;
}

bool summary_builder::listed(const goroutine_lifecycle& l) const {
  if ((filter_.state || filter_.reason) &&
      !filter_.matches_state({.state = l.last_state, .reason = l.last_reason})) {
    return false;
  }
  return filter_.min_stuck_ns == 0 || (l.stuck_samples >= 2 && l.stuck_ns >= filter_.min_stuck_ns);
}

std::size_t summary_builder::retained() const noexcept {
  const auto& r = retired_;
  return live_.size() + r.longest_stuck.size() + r.kept.size();
}

void summary_builder::retire(std::uint64_t id, const instant& at) {
  live_lifecycle* live = live_.find(id);
  if (!live) return;
  goroutine_lifecycle l = lifecycle_of(*live, true);
  if (live->extras != live_lifecycle::no_extras) {
    extras_[live->extras] = {};
    free_extras_.push_back(live->extras);
  }
  live_.erase(id);
  note_gone(l, at);
  retired_state& r = retired_;
  ++r.seen;
  r.created += l.created_inside;
  r.alive_start += !l.created_inside;
  at_site(r.site_created, l.site) += l.created_inside;
  at_site(r.site_exited, l.site) += 1;
  const bool hog = l.hog_samples >= 2 && l.hog_ns >= options_.never_yielded_ns;
  if (hog) {
    r.never_yielded_warnings.push_back(
        {summary_warning::kind::never_yielded, l.id, l.site, l.hog_samples, l.hog_ns});
  }
  if (l.stuck_samples >= 2 && l.stuck_ns >= filter_.min_stuck_ns) {
    capped_list::keep_best(r.longest_stuck, l, top_stuck_, longer_stuck);
  }
  // As classify() sorts a goroutine alive at the end, less what needs it alive there (leaked,
  // background, an ongoing wait).
  if (!l.deadlocked && !l.behind_deadlock && !l.leaked) {
    const std::size_t top = capped_list::limit(options_.top);
    if (hog) {
      ++r.never_yielded_count;
      capped_list::keep_best(
          r.never_yielded,
          never_yielded_report{{l.id, l.site, l.labels, l.last_stack}, l.hog_samples, l.hog_ns},
          top, [](const never_yielded_report& a, const never_yielded_report& b) {
            if (a.duration_ns != b.duration_ns) return a.duration_ns > b.duration_ns;
            return a.id < b.id;
          });
    }
    const std::int64_t fixed = fixed_stuck_ns();
    if (l.stuck_samples >= 2 && l.stuck_ns >= (fixed > 0 ? fixed : second)) {
      // The automatic threshold is at least 1 s: below it a wait can never count.
      if (fixed > 0) {
        ++r.stuck_count;
      } else {
        r.stuck_ns.push_back(l.stuck_ns);
      }
      capped_list::keep_best(r.stuck,
                             stuck_report{{l.id, l.site, l.labels, l.stuck_stack},
                                          l.stuck_reason,
                                          l.stuck_ns,
                                          l.stuck_since_ns,
                                          l.stuck_samples,
                                          false},
                             top, [](const stuck_report& a, const stuck_report& b) {
                               if (a.stuck_ns != b.stuck_ns) return a.stuck_ns > b.stuck_ns;
                               return a.id < b.id;
                             });
    }
  }
  if (listed(l)) {
    ++r.listed;
    if (sink_) sink_(l, follow_, *tables_);
    capped_list::keep_best(
        r.kept, std::move(l), options_.keep_goroutines,
        [](const goroutine_lifecycle& a, const goroutine_lifecycle& b) { return a.id < b.id; });
  }
}

}  // namespace gprofid
