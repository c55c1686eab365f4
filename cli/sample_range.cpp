#include "cli/sample_range.hpp"

#include <stdexcept>

#include "cli/recording_input.hpp"
#include "cli/standard_input.hpp"

namespace gprofid::cli {
namespace {

// |i| for a negative i, without overflowing at INT64_MIN.
std::uint64_t from_end(std::int64_t i) {
  return static_cast<std::uint64_t>(-(i + 1)) + 1;
}

std::string range_text(std::int64_t from, std::int64_t to) {
  return "--from " + std::to_string(from) + " --to " + std::to_string(to);
}

}  // namespace

sample_range_reader::sample_range_reader(const std::string& path, std::int64_t from,
                                         std::int64_t to)
    : path_(recording_name(path)), from_(from), to_(to) {
  // Bounds of the same sign (or a non-negative F before a negative T that is the last) compare
  // without the file: an empty range is a usage error, not an empty result.
  if ((from >= 0 && to >= 0 && from > to) || (from < 0 && to < 0 && from > to)) {
    throw empty_range("empty range " + range_text(from, to) + ": --from is after --to");
  }
  if ((from < 0 || to < -1) && rereadable(path)) {
    const auto n = static_cast<std::int64_t>(count_samples(path));
    if (from_ < 0) from_ = n >= static_cast<std::int64_t>(from_end(from_)) ? from_ + n : 0;
    if (to_ < 0) to_ = to_ + n;  // -1 is the last, -n the first; below 0 selects nothing
    if (n == 0) throw std::out_of_range(no_samples_text(path_));
    if (to_ < 0 || from_ > to_ || from_ >= n) {
      throw std::out_of_range(path_ + ": " + range_text(from, to) +
                              " selects no sample (the recording has " + std::to_string(n) +
                              " samples)");
    }
  } else if (from < 0) {
    tail_mode_ = true;
  } else if (to < -1) {
    delay_ = from_end(to) - 1;
  }
  reader_ = open_recording(path);
}

bool sample_range_reader::next_in_file(sample& out) {
  if (index_ < from_) {
    // The samples before the range are passed over (from the keyframe before it, in v2).
    const bool found = reader_->skip_to(static_cast<std::uint64_t>(from_));
    index_ = static_cast<std::int64_t>(reader_->samples_read());
    if (!found) return false;
    reader_->current(out);
    return true;
  }
  if (!reader_->next(out)) return false;
  ++index_;
  return true;
}

bool sample_range_reader::fill_tail() {
  const std::uint64_t keep = from_end(from_);
  sample s;
  while (next_in_file(s)) {
    held_.emplace_back(index_ - 1, std::move(s));
    s = {};
    if (held_.size() > keep) held_.pop_front();
  }
  const std::int64_t n = index_;
  const std::int64_t last = to_ < 0 ? to_ + n : to_;  // inclusive, resolved
  while (!held_.empty() && held_.back().first > last) held_.pop_back();
  return !held_.empty();
}

void sample_range_reader::check_not_empty() const {
  if (returned_ > 0) return;
  if (index_ == 0) throw std::out_of_range(no_samples_text(path_));
  throw std::out_of_range(path_ + ": " + range_text(from_, to_) +
                          " selects no sample (the recording has " + std::to_string(index_) +
                          " samples)");
}

bool sample_range_reader::next(sample& out) {
  if (done_) return false;
  if (tail_mode_) {
    if (!tail_read_) {
      tail_read_ = true;
      fill_tail();
    }
  } else if (delay_ > 0) {
    // Hold back the last |T|-1 samples: one is released once another arrives behind them.
    sample s;
    while (held_.size() <= delay_ && next_in_file(s)) {
      if (index_ - 1 >= from_) held_.emplace_back(index_ - 1, std::move(s));
      s = {};
    }
    if (held_.size() <= delay_) held_.clear();
  } else {
    while (to_ < 0 || index_ <= to_) {
      if (!next_in_file(out)) break;
      if (index_ - 1 < from_) continue;
      ++returned_;
      return true;
    }
    done_ = true;
    check_not_empty();
    return false;
  }
  if (held_.empty()) {
    done_ = true;
    check_not_empty();
    return false;
  }
  out = std::move(held_.front().second);
  held_.pop_front();
  ++returned_;
  return true;
}

bool sample_range_reader::next_changes(sample_changes& out) {
  if (!streams_changes())
    throw std::logic_error("sample_range_reader: this range cannot stream changes");
  if (done_) return false;
  if (to_ >= 0 && index_ > to_) {
    // past the range
  } else if (index_ < from_) {
    const bool found = reader_->skip_to(static_cast<std::uint64_t>(from_));
    index_ = static_cast<std::int64_t>(reader_->samples_read());
    if (found) {
      // The range's first sample is every goroutine in it, created, as a recording's first is.
      sample s;
      reader_->current(s);
      out.clear();
      out.seq = s.seq;
      out.time_ns = s.time_ns;
      out.duration_ns = s.duration_ns;
      out.pause_ns = s.pause_ns;
      out.alive = s.goroutines.size();
      out.objects = s.objects.size();
      out.first = true;
      out.created = std::move(s.goroutines);
      ++returned_;
      return true;
    }
  } else if (reader_->next_changes(out)) {
    if (!out.more) {
      ++index_;
      ++returned_;
    }
    return true;
  }
  done_ = true;
  check_not_empty();
  return false;
}

}  // namespace gprofid::cli
