// Command-line recording arguments of diff and show: "PATH" or "PATH@N" (N-th sample, negative
// counts from the end), picking one sample out of a recording while streaming it, and the one
// way the commands that read recordings report bad input.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "gprofid/recording/recording_format.hpp"
#include "gprofid/recording/sample.hpp"

namespace gprofid::cli {

struct recording_arg {
  std::string path;
  std::optional<std::int64_t> index;  // from "@N"
};

// Splits a trailing "@N" off; a path whose "@..." suffix is not an integer is kept whole.
recording_arg parse_recording_arg(const std::string& text);

// One sample of a recording, with the recording's tables (which cover it) and header.
struct picked_sample {
  recording_header header;
  symbol_tables tables;
  sample s;
  std::uint64_t count = 0;  // samples in the recording
};

// Reads `path` and keeps the sample at `index` (negative: from the end); holds one sample (at
// most |index| from a FIFO). The samples before it are passed over (recording_reader::skip_to:
// in a v2 file from the keyframe before it), the ones after it counted by their blocks. Throws
// recording_error on bad input, std::out_of_range when there is no such sample. Reader warnings are
// printed to stderr.
picked_sample pick_sample(const std::string& path, std::int64_t index);

// Several samples of one recording: `samples[i]` is the one at `indices[i]`, and `tables` covers
// them all. A negative index in a regular file is resolved by counting first (count_samples);
// a FIFO or stdin can be read only once, so it is read in one pass holding the last |index|.
struct picked_samples {
  recording_header header;
  symbol_tables tables;
  std::vector<sample> samples;
  std::uint64_t count = 0;  // samples in the recording
};
picked_samples pick_samples(const std::string& path, std::vector<std::int64_t> indices);

// Whether `path` can be read twice (a regular file); a FIFO, a pipe or a terminal cannot.
bool rereadable(const std::string& path);

// The number of samples in the recording at `path` (one pass: v2 blocks are passed over, their
// records not decoded; v1 lines are parsed).
std::uint64_t count_samples(const std::string& path);

// The error of a command that needs a sample, for a recording that has none (a header, maybe an
// end): "NAME: the recording has no samples", where `name` is as recording_name() prints it.
std::string no_samples_text(const std::string& name);

// Prints "gprof-id COMMAND: warning: ..." for each reader warning.
void print_warnings(const std::vector<std::string>& warnings);

// Runs `body` (a command reading recordings) and returns its exit status; a malformed recording
// (recording_error) or a missing sample (std::out_of_range) becomes the one line
// "gprof-id COMMAND: FILE:LINE: message" on stderr and exit_bad_input. Other exceptions pass
// through.
int with_recording_errors(const std::function<int()>& body);

}  // namespace gprofid::cli
