// Reads a recording one sample at a time, holding only the symbol tables and the current sample,
// and validating it as it goes: format v1 (JSON Lines) or v2 (binary blocks), told apart by the
// first byte (docs/recording-format.md); both give the same samples.
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

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

class v2_reader;

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
  // ended, if it says). Throws recording_error on an invalid line.
  bool next(sample& out);

  // The end line, once next() has returned false; empty when the recording was cut short.
  const std::optional<recording_end>& end() const noexcept;
  // "FILE:LINE: message" for each recoverable problem: a truncated last line, a missing end.
  const std::vector<std::string>& warnings() const noexcept;
  // The number of the last line read (1-based; 0 for v2).
  std::uint64_t line_number() const noexcept { return line_no_; }

 private:
  recording_reader(std::unique_ptr<std::istream> owned, std::string name);
  void open();
  void read_header();
  // Counts a sample and warns when its seq repeats or goes back.
  void check_sequence(std::uint64_t seq);

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
  std::uint64_t last_seq_ = 0;
  std::uint64_t last_seq_line_ = 0;
  std::uint64_t sequence_warnings_ = 0;
  std::uint64_t end_line_ = 0;
  std::unique_ptr<v2_reader> v2_;  // set for a v2 recording, which it reads instead
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
