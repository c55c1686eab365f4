// A recording replayed by `gprof-id top` without holding it: one pass at the start counts the
// samples and notes where the reader can start again (v2 keyframes; every 64th v1 sample); after
// that only the sample at the position and the one before it are held whole. Moving forward
// reads on; moving back starts again at the nearest of those places. The warnings are the
// summary's over every sample up to the position, fed what changed by a second reader; a
// followed goroutine's history comes from a pass over the changes when it is first followed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gprofid/analysis/diff_summary.hpp"
#include "gprofid/analysis/recording_reader.hpp"
#include "gprofid/analysis/top_follow.hpp"
#include "gprofid/analysis/top_warnings.hpp"

namespace gprofid {

class top_replay {
 public:
  // Reads `path` through once and goes to its first sample. Throws recording_error (also for a
  // recording without samples) and recording_out_of_memory. `path` must be a file that can be
  // read again (not a pipe).
  explicit top_replay(std::string path, summary_options summary = {});
  top_replay(const top_replay&) = delete;
  top_replay& operator=(const top_replay&) = delete;

  std::size_t size() const noexcept { return times_.size(); }
  std::size_t position() const noexcept { return position_; }
  const sample& current() const noexcept { return current_; }
  const sample* previous() const noexcept { return position_ > 0 ? &previous_ : nullptr; }
  // The time of sample `index` (< size()), for the play timer.
  std::int64_t time_of(std::size_t index) const { return times_.at(index); }
  // The whole recording's tables (every sample refers only to them).
  symbol_tables& tables() noexcept { return tables_; }
  // The reader's warnings over the whole recording (a cut-short end, seq out of order).
  const std::vector<std::string>& reader_warnings() const noexcept { return reader_warnings_; }
  // The places a move back starts reading from: v2 keyframes, every 64th v1 sample.
  std::size_t keyframes() const noexcept { return keyframes_.size(); }

  // Moves to sample `index` (clamped to the last).
  void seek(std::size_t index);
  // The summary's findings over samples 0..position.
  const top_warnings& warnings();
  // follow_goroutine(id) over samples 0..position.
  top_followed follow(std::uint64_t id);

 private:
  sample_changes& read_next(recording_reader& r);
  const top_warnings& remember(std::uint64_t covered);

  std::string path_;
  summary_options summary_;
  symbol_tables tables_;
  std::vector<std::int64_t> times_;  // of every sample: 8 bytes a sample
  std::vector<std::pair<std::size_t, recording_restart_point>> keyframes_;  // by sample index
  std::vector<std::string> reader_warnings_;

  std::unique_ptr<recording_reader> view_;  // reads the samples shown
  std::size_t next_ = 0;                    // index of the sample view_ reads next
  std::size_t position_ = 0;
  sample current_, previous_;
  sample_changes changes_;

  // The warnings: a summary fed every sample in order, by a reader of its own; going back to
  // a position not shown before builds it again from the first sample, keeping the warnings of
  // the positions just before (a step back costs nothing then).
  std::unique_ptr<recording_reader> history_;
  summary_builder builder_;
  std::uint64_t fed_ = 0;  // samples fed to builder_
  static constexpr std::uint64_t kept_before = 16;
  static constexpr std::size_t max_seen = 4096;  // a few KB each; the earliest go first
  std::map<std::uint64_t, top_warnings> seen_;   // by samples covered
  std::optional<top_follow_track> track_;
};

}  // namespace gprofid
