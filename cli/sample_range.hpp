// The samples --from F --to T of one recording (negative: counted from the end), streamed. A
// regular file with a negative bound is read twice (once to count), holding one sample; a FIFO
// or stdin can be read only once, so it is read in one pass that holds at most |F| samples (or
// |T|-1 with a non-negative F) until it knows which are the last ones.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "gprofid/analysis/recording_reader.hpp"

namespace gprofid::cli {

// Bounds that select nothing whatever the recording holds; what() is one line for the user.
class empty_range : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

class sample_range_reader {
 public:
  // Throws empty_range when the bounds alone select nothing (--from 5 --to 3, or
  // --from -1 --to -3), recording_error when the file cannot be read.
  sample_range_reader(const std::string& path, std::int64_t from, std::int64_t to);

  const recording_header& header() const noexcept { return reader_->header(); }
  // Covers every sample returned so far.
  const symbol_tables& tables() const noexcept { return reader_->tables(); }
  // The next sample of the range, or false after its last one. Throws std::out_of_range when
  // the recording ends without a sample in the range ("the recording has N samples").
  bool next(sample& out);
  // Whether next_changes() can read this range: it is not counted from the end of a file that
  // cannot be counted first. (The range's first sample comes as every goroutine created.)
  bool streams_changes() const noexcept { return !tail_mode_ && delay_ == 0; }
  // As next(), as what changed since the previous sample (recording_reader::next_changes),
  // when streams_changes(); use one or the other on one reader.
  bool next_changes(sample_changes& out);
  // See recording_reader::set_piece_size: a sample handed over in pieces counts once.
  void set_piece_size(std::size_t n) noexcept { reader_->set_piece_size(n); }
  // After next_changes(): the sample it described, whole.
  void current(sample& out) const { reader_->current(out); }
  const std::vector<std::string>& warnings() const noexcept { return reader_->warnings(); }

 private:
  bool next_in_file(sample& out);  // the next sample of the file, counting indices
  bool fill_tail();                // reads to the end, keeping the last |from_| samples
  void check_not_empty() const;

  std::string path_;
  std::int64_t from_;
  std::int64_t to_;  // resolved (non-negative) once known; -1: until the end
  std::unique_ptr<recording_reader> reader_;
  std::int64_t index_ = 0;     // index of the next sample of the file
  std::int64_t returned_ = 0;  // samples of the range returned
  std::uint64_t delay_ = 0;    // samples held back because T counts from the end
  bool tail_mode_ = false;     // a negative F on a FIFO: the range is the tail of the file
  bool tail_read_ = false;
  bool done_ = false;
  std::deque<std::pair<std::int64_t, sample>> held_;  // (index, sample)
};

}  // namespace gprofid::cli
