#include "gprofid/analysis/top_replay.hpp"

#include <algorithm>

namespace gprofid {

top_replay::top_replay(std::string path, summary_options summary)
    : path_(std::move(path)), summary_(summary), builder_({}, summary) {
  // The pass that counts: work proportional to what changed (v2), one sample held.
  view_ = std::make_unique<recording_reader>(path_);
  while (view_->next_changes(changes_)) {
    // Every v2 keyframe (100 samples apart by default); a v1 recording could restart at any
    // sample, kept every 64th.
    auto p = view_->restart_point();
    if (p && (keyframes_.empty() || times_.size() - keyframes_.back().first >= 64)) {
      keyframes_.emplace_back(times_.size(), *p);
    }
    times_.push_back(changes_.time_ns);
  }
  if (times_.empty()) throw recording_error(path_, 0, "no samples");
  tables_ = view_->tables();
  reader_warnings_ = view_->warnings();
  next_ = times_.size();
  position_ = times_.size();  // nowhere yet: seek(0) reads the first sample
  seek(0);
}

sample_changes& top_replay::read_next(recording_reader& r) {
  if (!r.next_changes(changes_)) {
    throw recording_error(path_, 0,
                          "the recording changed while it was replayed (it has fewer than " +
                              std::to_string(times_.size()) + " samples now)");
  }
  return changes_;
}

void top_replay::seek(std::size_t index) {
  index = std::min(index, times_.size() - 1);
  if (index == position_) return;
  // Sample index - 1 is wanted too (the table's busy column compares with it).
  const std::size_t first_wanted = index > 0 ? index - 1 : 0;
  auto kf = std::upper_bound(keyframes_.begin(), keyframes_.end(), first_wanted,
                             [](std::size_t i, const auto& k) { return i < k.first; });
  const auto* start = kf == keyframes_.begin() ? nullptr : &*(kf - 1);
  // Back, or forward past a keyframe: start again there rather than read what is skipped.
  const bool again = index < next_ || (start && start->first > next_);
  if (again) {
    if (start) {
      view_->restart(start->second);
      next_ = start->first;
    } else {
      view_ = std::make_unique<recording_reader>(path_);
      next_ = 0;
    }
  } else if (index == position_ + 1) {
    std::swap(previous_, current_);  // the sample before is the one shown now
  }
  for (; next_ <= index; ++next_) {
    read_next(*view_);
    if (next_ + 1 == index) view_->current(previous_);
    if (next_ == index) view_->current(current_);
  }
  position_ = index;
}

const top_warnings& top_replay::remember(std::uint64_t covered) {
  summary_builder copy = builder_;  // finishing consumes a builder
  if (seen_.size() >= max_seen) seen_.erase(seen_.begin());
  return seen_.insert_or_assign(covered, make_top_warnings(copy.finish(), tables_)).first->second;
}

const top_warnings& top_replay::warnings() {
  const std::uint64_t want = position_ + 1;  // samples the warnings cover
  if (auto hit = seen_.find(want); hit != seen_.end()) return hit->second;
  const bool rebuild = !history_ || fed_ > want;
  if (rebuild) {
    history_ = std::make_unique<recording_reader>(path_);
    builder_ = summary_builder({}, summary_);
    fed_ = 0;
  }
  const std::uint64_t keep_from = rebuild && want > kept_before ? want - kept_before : want;
  const auto whole = [this](sample& s) { history_->current(s); };
  while (fed_ < want) {
    builder_.add(read_next(*history_), history_->tables(), whole);
    ++fed_;
    if (rebuild && fed_ >= keep_from && fed_ < want && !seen_.contains(fed_)) remember(fed_);
  }
  return remember(want);
}

top_followed top_replay::follow(std::uint64_t id) {
  if (!track_ || track_->id() != id) {
    // One pass over the changes, up to its exit; nothing of the samples is kept.
    track_.emplace(id);
    recording_reader r(path_);
    sample_changes c;
    for (std::size_t i = 0; r.next_changes(c) && track_->add(c, i, r.tables()); ++i) {
    }
  }
  return track_->at(position_, current_);
}

}  // namespace gprofid
