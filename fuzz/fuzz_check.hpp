// Helpers shared by the fuzz targets: reading a fuzz input as a recording, and checks that
// abort (a crash the fuzzer reports) when an invariant of the reader's output is broken.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>

#include "gprofid/recording/sample.hpp"

namespace gprofid::fuzz {

// Aborts with a message: libFuzzer and the replay driver both treat abort() as a finding.
[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
  std::abort();
}

inline void check(bool ok, const char* what) {
  if (!ok) fail(what);
}

// The fuzz input as a stream, without a NUL terminator.
inline std::istringstream input_stream(const std::uint8_t* data, std::size_t size) {
  return std::istringstream(std::string(reinterpret_cast<const char*>(data), size));
}

// What every reader (v1 and v2) promises diff and the exporters about a sample it returns, read
// from an input of `input_size` bytes: goroutines and objects sorted by id and unique, every
// site, stack and frame they name defined, every object of a kind, and no more goroutines or
// objects than the input has bytes (a reader never makes up records).
void check_sample(const sample& s, const symbol_tables& t, std::size_t input_size);

// True when `s` is valid UTF-8 (what JSON output must be).
bool valid_utf8(std::string_view s) noexcept;

// True when `s` holds no byte a terminal would execute: C0 controls other than '\n' and '\t'
// (ESC among them), DEL, C1 controls. Text output must escape them.
bool terminal_safe(std::string_view s) noexcept;

}  // namespace gprofid::fuzz
