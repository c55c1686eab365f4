// Whole-number command-line options checked against their documented range (docs/recording.md,
// docs/diff-format.md): CLI11's own conversion wraps "-1" into a huge unsigned value and
// saturates overflow, which is how `--workers -1` once reached the runtime as 2^64-1 threads.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string_view>

#include <CLI/CLI.hpp>

namespace gprofid::cli {

// Thrown by parse_whole_number; what() is one line for the user.
class number_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Decimal digits with an optional leading '-', in [lo, hi]. No base prefixes, exponents,
// fractions or spaces.
std::int64_t parse_whole_number(std::string_view text, std::int64_t lo, std::int64_t hi);

// A CLI11 check that runs parse_whole_number on the option's text before CLI11 converts it.
CLI::Validator whole_number_in(std::int64_t lo, std::int64_t hi);

// The documented ranges, shared by the options and their help text.
inline constexpr std::int64_t max_workers = 1024;  // as GPROFID_WORKERS (runtime/runtime.cpp)
inline constexpr std::int64_t max_samples = std::int64_t{1} << 40;  // as GPROFID_MAX_SAMPLES
// A sample index (--from, --to, --sample, FILE@N): no recording holds more samples.
inline constexpr std::int64_t max_sample_index = max_samples;
// diff --limit: rows per text section; more than any terminal shows, still "all" in practice.
inline constexpr std::int64_t max_limit = 1'000'000'000;

}  // namespace gprofid::cli
