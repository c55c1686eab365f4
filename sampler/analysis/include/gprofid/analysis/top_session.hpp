// What `gprof-id top` shows, without a screen: the samples it holds (the latest of a live
// program within a memory budget) or a recording it replays (top_replay, which holds two), the
// position being looked at,
// the goroutine table at that position, the followed goroutine and the warnings of everything
// up to it. The terminal front end only draws this and turns keys into its calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "gprofid/analysis/diff_summary.hpp"
#include "gprofid/analysis/top_follow.hpp"
#include "gprofid/analysis/top_replay.hpp"
#include "gprofid/analysis/top_table.hpp"
#include "gprofid/analysis/top_warnings.hpp"

namespace gprofid {

struct top_options {
  // Goroutine records kept over all held samples (104 bytes each, plus their own label sets: 356
  // bytes a record measured with one label, docs/top.md); the oldest samples go first, at least
  // two stay. Warnings still cover the dropped samples.
  std::size_t max_records = 2'000'000;
  summary_options summary{};
  // Live: the position moves to each new sample while it is at the latest. Replay: it stays at
  // the first sample until moved.
  bool follow_latest = true;
};

class top_session {
 public:
  explicit top_session(top_options options = {}) : options_(options) {}
  // A replay: the samples, warnings and followed goroutines are `replay`'s, at its position.
  top_session(top_options options, std::unique_ptr<top_replay> replay);
  top_session(const top_session&) = delete;
  top_session& operator=(const top_session&) = delete;

  // The recording's tables, which samples refer to: a live source appends to them before it
  // adds a sample that uses the new entries.
  symbol_tables& tables() noexcept { return replay_ ? replay_->tables() : tables_; }
  const symbol_tables& tables() const noexcept { return replay_ ? replay_->tables() : tables_; }

  // Appends samples (recording order; not to a replay). With follow_latest, when the position is
  // the latest sample (or there was none) it moves to the new latest; otherwise it stays where it
  // is (at the first sample when there was none). The table and warnings are rebuilt once per move.
  void add(std::vector<sample> batch);
  void add(sample s);

  // Whether add() moves a position at the latest sample to the new latest (a live view that is
  // not paused).
  void set_follow_latest(bool on) noexcept { options_.follow_latest = on; }

  std::size_t size() const noexcept { return replay_ ? replay_->size() : samples_.size(); }
  bool empty() const noexcept { return size() == 0; }
  // Samples dropped from the front to stay within max_records.
  std::uint64_t dropped() const noexcept { return dropped_; }
  // Index into the held samples; meaningful when !empty().
  std::size_t position() const noexcept { return replay_ ? replay_->position() : position_; }
  bool at_latest() const noexcept { return !empty() && position() + 1 == size(); }
  // Moves to sample `index` (clamped); false when it did not move.
  bool seek(std::size_t index);
  bool step(std::ptrdiff_t delta);
  const sample& current() const { return replay_ ? replay_->current() : samples_.at(position_); }
  const sample* previous() const {
    if (replay_) return replay_->previous();
    return position_ > 0 ? &samples_[position_ - 1] : nullptr;
  }
  // The time of sample `index` (< size()).
  std::int64_t time_of(std::size_t index) const {
    return replay_ ? replay_->time_of(index) : samples_.at(index).time_ns;
  }
  // The samples held (a live session; none for a replay).
  const std::vector<sample>& samples() const noexcept { return samples_; }

  const top_table& table() const noexcept { return table_; }
  void set_sort(top_sort s) { table_.set_sort(s); }
  void set_filter(top_filter f) { table_.set_filter(std::move(f)); }

  // Follows goroutine `id` (it need not exist yet); nullopt stops.
  void follow(std::optional<std::uint64_t> id);
  const std::optional<top_followed>& followed() const noexcept { return followed_; }

  // The summary's findings over every sample up to the position.
  const top_warnings& warnings() const noexcept { return warnings_; }

 private:
  void refresh();
  void refresh_warnings();
  void refollow();

  top_options options_;
  std::unique_ptr<top_replay> replay_;
  symbol_tables tables_;
  std::vector<sample> samples_;
  std::size_t records_ = 0;  // goroutine records over samples_
  std::uint64_t dropped_ = 0;
  std::size_t position_ = 0;
  top_table table_;
  std::optional<top_followed> followed_;
  // Fed every sample in order up to the position; a copy is finished for each position, since
  // finishing consumes a builder. Going back to a position not shown before rebuilds it from
  // the first held sample.
  summary_builder builder_;
  std::uint64_t fed_ = 0;  // samples fed, counting dropped ones (absolute sample number)
  top_warnings warnings_;
  // The warnings of positions already shown, by samples covered: stepping back over a replay
  // that was played forward costs no rebuild. A few KB each; the earliest positions go first.
  static constexpr std::size_t max_seen = 4096;
  std::map<std::uint64_t, top_warnings> seen_;
};

}  // namespace gprofid
