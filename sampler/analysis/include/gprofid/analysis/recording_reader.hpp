// Reads a recording one sample at a time, holding only the symbol tables and the current sample,
// and validating it as it goes: format v1 (JSON Lines) or v2 (binary blocks), told apart by the
// first byte (docs/recording-format.md); both give the same samples.
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "gprofid/analysis/sample_changes.hpp"
#include "gprofid/analysis/sample_sequence.hpp"
#include "gprofid/recording/recording_format.hpp"
#include "gprofid/recording/sample.hpp"

namespace gprofid {

// A malformed, unsupported or unreadable recording. what() is "FILE:LINE: message" (v1, 1-based
// line), "FILE: offset N, block B (sample S): message" (v2), or "FILE: message" when no line is
// involved (e.g. the file cannot be opened).
class recording_error : public std::runtime_error {
 public:
  recording_error(const std::string& file, std::uint64_t line, const std::string& message);
  const std::string& file() const noexcept { return file_; }
  std::uint64_t line() const noexcept { return line_; }
  const std::string& message() const noexcept { return message_; }

 private:
  std::string file_;
  std::uint64_t line_;
  std::string message_;
};

// Memory ran out while reading a recording. A std::bad_alloc, so that it is still running out
// of memory (exit_failure, docs/exit-codes.md) and not bad input, but one that says where: what()
// is "FILE:LINE: out of memory reading this line (N bytes)" or "FILE: offset N, block B: out of
// memory reading this block". (Building that text needs a little memory; when even that fails
// the plain std::bad_alloc goes on.)
class recording_out_of_memory : public std::bad_alloc {
 public:
  explicit recording_out_of_memory(std::string what) : what_(std::move(what)) {}
  const char* what() const noexcept override { return what_.c_str(); }

 private:
  std::string what_;
};

class v2_reader;
namespace jsonl_fast {
class label_cache;
}

// A sample a reader can read again without the samples before it (recording_reader::
// restart_point): a v2 keyframe by the position of its block, or any v1 sample line.
struct recording_restart_point {
  std::uint64_t offset = 0;  // the sample block's or line's file offset
  std::uint64_t block = 0;   // its block number (v2) or line number (v1), 1-based
  std::uint64_t sample = 0;  // its sample number (1-based)
};

class recording_reader {
 public:
  // Reads from `in`; `name` is the file name used in messages. Reads the header at once.
  recording_reader(std::istream& in, std::string name);
  // Opens and reads the file at `path`.
  explicit recording_reader(const std::string& path);
  ~recording_reader();
  recording_reader(const recording_reader&) = delete;
  recording_reader& operator=(const recording_reader&) = delete;

  const recording_header& header() const noexcept;
  // Every site, frame and stack defined so far; a sample refers only to entries defined before
  // it, so after next() returns it these cover it.
  const symbol_tables& tables() const noexcept;

  // The next sample, or false at the end of the input (then end() says how the recording
  // ended, if it says). Throws recording_error on an invalid line or a read error, and
  // recording_out_of_memory when a line or block does not fit in memory.
  bool next(sample& out);
  // The next sample as what changed since the previous one (the first: every goroutine
  // created), with the same checks, errors and end as next(). A v2 recording is applied in work
  // proportional to its records and only the changes are copied out, so a consumer of the
  // changes reads at the speed of what changed; a v1 recording is read whole and compared with
  // the previous sample. Use either next() or next_changes() on one reader, not both.
  bool next_changes(sample_changes& out);
  // From then on, next_changes() hands a v2 recording's first sample over in pieces of `n`
  // created goroutines (0: whole), so that a first sample of 10^6 goroutines is never copied
  // out at once: each piece but the last has `more` set (sample_changes). A v1 recording's
  // first sample stays whole.
  void set_piece_size(std::size_t n) noexcept;
  // After next_changes() or skip_to(): the sample it described, whole (work proportional to
  // its goroutines).
  void current(sample& out) const;
  // Reads up to and including sample `index` of the recording (0-based; a sample already read
  // stays read) without handing the samples out: current() then gives sample `index` and
  // next_changes() or next() go on from it. False when the recording ends first (end() and
  // warnings() are then final). Every sample passed is counted and its seq checked, as next()
  // does. A v1 recording is parsed line by line; a v2 one from a file passes over the blocks up
  // to `index` (checksummed and decompressed, their tables read, the sample records not
  // decoded) and applies the samples from the last keyframe at or before it, so the work is
  // that of the changes since that keyframe; from a pipe every sample is applied.
  bool skip_to(std::uint64_t index);
  // Passes over every sample left, as skip_to does before its keyframe, to the end (end() and
  // warnings() are then final) and returns how many there were; current() is then no sample.
  std::uint64_t skip_rest();
  // The samples read (or passed over) so far.
  std::uint64_t samples_read() const noexcept;

  // After next() or next_changes(): where this reader can read the sample just read again
  // without those before it: a v2 keyframe's, every v1 sample's; none for a v2 delta sample.
  std::optional<recording_restart_point> restart_point() const noexcept;
  // Makes the sample at `p` (a restart_point() of this reader) the next one read, as if it were
  // the first (next_changes: every goroutine created). The tables stay (they cover every sample
  // read so far), and nothing read before is checked or warned about twice. Throws
  // recording_error when the input cannot seek (a pipe).
  void restart(const recording_restart_point& p);

  // The end line, once next() has returned false; empty when the recording was cut short.
  const std::optional<recording_end>& end() const noexcept;
  // "FILE:LINE: message" for each recoverable problem: a truncated last line, a missing end.
  const std::vector<std::string>& warnings() const noexcept;
  // The number of the last line read (1-based; 0 for v2).
  std::uint64_t line_number() const noexcept { return line_no_; }
  // Test seam: read every v1 line with the JSON DOM, never the fast path that reads plain
  // sample lines in place, so a test can check that both give the same samples and errors.
  void use_dom_parser_for_test() noexcept { v1_fast_ = false; }

 private:
  recording_reader(std::unique_ptr<std::istream> owned, std::string name);
  void open();
  void read_header();
  bool next_line_sample(sample& out);  // next() of a v1 recording
  // Rethrows the exception being handled, with the position in the recording: bad_alloc as
  // recording_out_of_memory, a read error the stream rethrew as recording_error.
  [[noreturn]] void rethrow_with_position();
  // Counts a sample and warns when its seq repeats or goes back (unless read `again`, after a
  // restart()).
  void check_sequence(std::uint64_t seq, bool again = false);

  std::unique_ptr<std::istream> owned_;
  std::istream* in_;
  std::string name_;
  std::string line_;
  std::uint64_t line_no_ = 0;
  recording_header header_;
  symbol_tables tables_;
  std::optional<recording_end> end_;
  std::vector<std::string> warnings_;
  bool done_ = false;
  std::uint64_t samples_read_ = 0;
  sample_sequence sequence_{sample_sequence::position::line};
  std::uint64_t end_line_ = 0;
  std::unique_ptr<v2_reader> v2_;  // set for a v2 recording, which it reads instead
  sample v1_last_;                 // v1 next_changes(): the previous sample, to compare with
  sample v1_next_;
  bool v1_have_last_ = false;
  // v1 restart(): lines before v1_read_until_ were read already; the end warns once.
  std::uint64_t v1_read_until_ = 0;
  std::uint64_t v1_line_at_ = 0;  // offset of the line read last
  recording_restart_point v1_sample_at_;
  bool v1_finished_ = false;
  bool v1_fast_ = true;
  std::unique_ptr<jsonl_fast::label_cache> v1_labels_;  // the fast path's recent label sets
};

// A whole recording in memory, for tools that need every sample at once.
struct recording {
  recording_header header;
  symbol_tables tables;
  std::vector<sample> samples;
  std::optional<recording_end> end;
  std::vector<std::string> warnings;
};
recording read_recording(const std::string& path);

}  // namespace gprofid
