// Fuzz target: the export path over whatever the reader accepts: folded stacks (both weights),
// a pprof profile of each sample, and (when built in) the Chrome trace, whose JSON must be valid.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "gprofid/analysis/export_folded.hpp"
#include "gprofid/analysis/export_pprof.hpp"
#include "gprofid/analysis/export_trace.hpp"
#include "gprofid/analysis/recording_reader.hpp"

using gprofid::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto in = gprofid::fuzz::input_stream(data, size);
  try {
    gprofid::recording_reader reader(in, "fuzz");
    gprofid::folded_builder by_count;
    gprofid::folded_builder by_wait(
        {.weight = gprofid::folded_weight::waiting_time, .lines = true});
    std::string t;
    gprofid::trace_writer trace([&](std::string_view piece) { t += piece; });
    gprofid::sample s;
    while (reader.next(s)) {
      by_count.add(reader.tables(), s);
      by_wait.add(reader.tables(), s);
      const std::string profile = gprofid::pprof_goroutine_profile_uncompressed(
          reader.tables(), s, gprofid::pprof_source_of(reader.header()));
      check(!s.goroutines.empty() || profile.size() < (1u << 20), "empty sample, small profile");
      // The leak profile runs diagnose(s) on whatever graph the input holds.
      const std::string leaks = gprofid::pprof_goroutineleak_profile_uncompressed(
          reader.tables(), s, gprofid::pprof_source_of(reader.header()));
      check(!leaks.empty(), "a goroutineleak profile names its sample type");
      trace.add(reader.tables(), s);
    }
    // One "frame;frame;frame count" per line, whatever the function names hold.
    const std::string folded = by_count.str() + by_wait.str();
    check(folded.empty() || folded.back() == '\n', "folded output ends its last line");
    for (std::size_t begin = 0; begin < folded.size();) {
      const std::size_t end = folded.find('\n', begin);
      const std::string_view line(folded.data() + begin, end - begin);
      const std::size_t space = line.rfind(' ');
      check(space != std::string_view::npos && space + 1 < line.size() &&
                line.find_first_not_of("0123456789", space + 1) == std::string_view::npos,
            "each folded line ends with its count");
      begin = end + 1;
    }
    trace.finish(reader.tables());
    check(gprofid::fuzz::valid_utf8(t), "trace JSON is valid UTF-8");
  } catch (const gprofid::recording_error&) {
  }
  return 0;
}
