// Fuzz target: diff over whatever the reader accepts. Pairs, the summary and their JSON must not
// crash; the JSON must be valid UTF-8 that parses back; text output (when built in) must escape
// every terminal control character.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>

#include "fuzz_check.hpp"
#include "gprofid/analysis/diff.hpp"
#include "gprofid/analysis/diff_json.hpp"
#include "gprofid/analysis/diff_summary.hpp"
#include "gprofid/analysis/diff_text.hpp"
#include "gprofid/analysis/recording_reader.hpp"

using gprofid::fuzz::check;

namespace {

void check_json(const std::string& text) {
  check(gprofid::fuzz::valid_utf8(text), "diff JSON is valid UTF-8");
  try {
    const auto doc = nlohmann::json::parse(text);
    check(doc.is_object(), "diff JSON is an object");
  } catch (const nlohmann::json::exception&) {
    gprofid::fuzz::fail("diff JSON parses back");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto in = gprofid::fuzz::input_stream(data, size);
  try {
    gprofid::recording_reader reader(in, "fuzz");
    std::ostringstream json_out;
    std::ostringstream text_out;
    gprofid::diff_json_writer writer(json_out, false, {{"fuzz", 0, "", ""}});
    gprofid::diff_engine engine;
    // Following every goroutine (a label filter) exercises the timelines too.
    gprofid::goroutine_filter follow;
    follow.labels.emplace_back("k", "v");
    gprofid::summary_builder summary;
    gprofid::summary_builder followed(follow, 3);
    gprofid::sample before;
    gprofid::sample after;
    bool have_before = false;
    while (reader.next(after)) {
      summary.add(after, reader.tables());
      followed.add(after, reader.tables());
      if (have_before) {
        const auto d = engine.next(before, after, reader.tables());
        check(d.counts.created == d.created.size(), "created count");
        check(d.counts.exited == d.exited.size(), "exited count");
        writer.pair(d, reader.tables());
        gprofid::write_pair_text(text_out, d, reader.tables());
      }
      std::swap(before, after);
      have_before = true;
    }
    const auto s = summary.finish();
    writer.summary(s, reader.tables());
    writer.finish();
    check_json(json_out.str());
    const auto f = followed.finish();
    check_json(gprofid::summary_to_json(f, reader.tables()).dump());
    gprofid::write_summary_text(text_out, s, reader.tables());
    gprofid::write_summary_text(text_out, f, reader.tables(), {.color = false, .max_rows = 0});
    check(gprofid::fuzz::terminal_safe(text_out.str()), "diff text escapes control characters");
  } catch (const gprofid::recording_error&) {
  }
  return 0;
}
