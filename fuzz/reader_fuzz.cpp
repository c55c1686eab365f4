// Fuzz target: the recording reader. Any input must either be read or rejected with
// recording_error; what it returns must satisfy the invariants diff and the exporters rely on.
#include <cstddef>
#include <cstdint>

#include "fuzz_check.hpp"
#include "gprofid/analysis/recording_reader.hpp"

using gprofid::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto in = gprofid::fuzz::input_stream(data, size);
  try {
    gprofid::recording_reader reader(in, "fuzz");
    gprofid::sample s;
    while (reader.next(s)) gprofid::fuzz::check_sample(s, reader.tables(), size);
    check(!reader.next(s), "next() stays false at the end");
  } catch (const gprofid::recording_error&) {
    // Rejected with a message: fine.
  }
  return 0;
}
