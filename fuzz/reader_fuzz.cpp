// Fuzz target: the recording reader. Any input must either be read or rejected with
// recording_error; what it returns must satisfy the invariants diff and the exporters rely on,
// and the v1 fast path must read exactly what the JSON DOM reads (samples, warnings, errors).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "gprofid/analysis/recording_reader.hpp"

using gprofid::fuzz::check;

namespace {

// Everything a reader made of one input.
struct reading {
  std::vector<gprofid::sample> samples;
  std::vector<std::string> warnings;
  std::string error;  // what() of the recording_error that stopped it, if any
};

reading read_all(const std::uint8_t* data, std::size_t size, bool dom_only) {
  reading r;
  auto in = gprofid::fuzz::input_stream(data, size);
  try {
    gprofid::recording_reader reader(in, "fuzz");
    if (dom_only) reader.use_dom_parser_for_test();
    gprofid::sample s;
    while (reader.next(s)) {
      gprofid::fuzz::check_sample(s, reader.tables(), size);
      r.samples.push_back(s);
    }
    check(!reader.next(s), "next() stays false at the end");
    r.warnings = reader.warnings();
  } catch (const gprofid::recording_error& e) {
    r.error = e.what();  // rejected with a message: fine
  }
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const reading fast = read_all(data, size, false);
  const reading dom = read_all(data, size, true);
  check(fast.error == dom.error, "the fast path and the DOM stop with the same error");
  check(fast.warnings == dom.warnings, "the fast path and the DOM warn alike");
  check(fast.samples == dom.samples, "the fast path reads the samples the DOM reads");
  return 0;
}
