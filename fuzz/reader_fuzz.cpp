// Fuzz target: the recording reader. Any input must either be read or rejected with
// recording_error; what it returns must satisfy the invariants diff and the exporters rely on.
#include <algorithm>
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
    std::uint64_t count = 0;
    while (reader.next(s)) {
      ++count;
      const auto& t = reader.tables();
      for (std::size_t i = 0; i < s.goroutines.size(); ++i) {
        const auto& g = s.goroutines[i];
        check(i == 0 || s.goroutines[i - 1].id < g.id, "goroutines sorted by id, unique");
        check(g.site < t.sites.size(), "site defined");
        check(g.stack < t.stacks.size(), "stack defined");
      }
      for (const auto& st : t.stacks) {
        check(
            std::all_of(st.begin(), st.end(), [&](std::uint32_t f) { return f < t.frames.size(); }),
            "stack frames defined");
      }
    }
    check(!reader.next(s), "next() stays false at the end");
    (void)count;
  } catch (const gprofid::recording_error&) {
    // Rejected with a message: fine.
  }
  return 0;
}
