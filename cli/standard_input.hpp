// "-" as a recording argument: the recording on standard input. Standard input can be read only
// once (a pipe, a FIFO, a terminal), so it follows the FIFO rules of recording_input.hpp: never
// counted first, read in one pass, and opened at most once per process.
#pragma once

#include <istream>
#include <memory>
#include <string>

#include "gprofid/analysis/recording_reader.hpp"

namespace gprofid::cli {

// Whether a recording argument means standard input.
inline bool is_standard_input(const std::string& path) {
  return path == "-";
}

// The name messages give the recording at `path`: "stdin" for "-", else the path.
std::string recording_name(const std::string& path);

// A reader of the recording at `path` ("-": standard input, read through a buffer of its own so
// that it is as fast as a file). Throws recording_error when the file cannot be opened, when
// standard input is a terminal, or when it was already read.
std::unique_ptr<recording_reader> open_recording(const std::string& path);

}  // namespace gprofid::cli
