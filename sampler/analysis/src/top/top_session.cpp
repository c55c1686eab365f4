#include "gprofid/analysis/top_session.hpp"

#include <algorithm>

namespace gprofid {

top_session::top_session(top_options options, std::unique_ptr<top_replay> replay)
    : options_(options), replay_(std::move(replay)) {
  options_.follow_latest = false;
  refresh();
}

void top_session::add(sample s) {
  std::vector<sample> one;
  one.push_back(std::move(s));
  add(std::move(one));
}

void top_session::add(std::vector<sample> batch) {
  if (batch.empty() || replay_) return;
  const bool first = samples_.empty();
  const bool follow_latest = first || (options_.follow_latest && at_latest());
  for (sample& s : batch) {
    records_ += s.goroutines.size();
    samples_.push_back(std::move(s));
  }
  // Keep the budget, but never drop the position's sample or the one before it.
  const std::size_t look_at = follow_latest ? samples_.size() - 1 : position_;
  std::size_t drop = 0;
  while (records_ > options_.max_records && drop + 1 < look_at) {
    records_ -= samples_[drop].goroutines.size();
    ++drop;
  }
  if (drop > 0) {
    samples_.erase(samples_.begin(), samples_.begin() + static_cast<std::ptrdiff_t>(drop));
    dropped_ += drop;
    if (!follow_latest) position_ -= drop;
  }
  // Moving a sample keeps its goroutines' buffer, so the table's rows stay valid when the
  // position does not move.
  if (follow_latest) {
    position_ = options_.follow_latest ? samples_.size() - 1 : 0;
    refresh();
  }
}

bool top_session::seek(std::size_t index) {
  if (replay_) {
    const std::size_t before = replay_->position();
    replay_->seek(index);
    if (replay_->position() == before) return false;
    refresh();
    return true;
  }
  if (samples_.empty()) return false;
  index = std::min(index, samples_.size() - 1);
  if (index == position_) return false;
  position_ = index;
  refresh();
  return true;
}

bool top_session::step(std::ptrdiff_t delta) {
  if (empty()) return false;
  const auto target = static_cast<std::ptrdiff_t>(position()) + delta;
  return seek(static_cast<std::size_t>(std::max<std::ptrdiff_t>(0, target)));
}

void top_session::follow(std::optional<std::uint64_t> id) {
  if (!id) {
    followed_.reset();
    return;
  }
  followed_.emplace();
  followed_->id = *id;
  refollow();
}

void top_session::refresh() {
  table_.build(previous(), current(), tables());
  refresh_warnings();
  refollow();
}

void top_session::refollow() {
  if (!followed_ || empty()) return;
  if (replay_) {
    followed_ = replay_->follow(followed_->id);
    return;
  }
  followed_ = follow_goroutine(followed_->id,
                               std::span<const sample>(samples_.data(), position_ + 1), tables_);
}

void top_session::refresh_warnings() {
  if (replay_) {
    warnings_ = replay_->warnings();
    return;
  }
  const std::uint64_t want = dropped_ + position_ + 1;  // samples the warnings cover
  if (auto hit = seen_.find(want); hit != seen_.end()) {
    warnings_ = hit->second;
    return;
  }
  if (fed_ > want) {
    builder_ = summary_builder({}, options_.summary);
    fed_ = dropped_;
  }
  // Samples dropped before they were fed (a paused live view) are missed: the summary sees a gap.
  fed_ = std::max(fed_, dropped_);
  for (; fed_ < want; ++fed_) builder_.add(samples_[fed_ - dropped_], tables_);
  summary_builder copy = builder_;
  warnings_ = make_top_warnings(copy.finish(), tables_);
  if (seen_.size() >= max_seen) seen_.erase(seen_.begin());
  seen_.emplace(want, warnings_);
}

}  // namespace gprofid
