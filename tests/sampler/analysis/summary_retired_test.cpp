// The summary folds each goroutine as it exits (summary_retired.cpp): it holds the live set, not
// every goroutine ever seen, whether fed whole samples or changes; the capped lists still rank
// exited goroutines against live ones with the right omitted counts; every lifecycle reaches the
// sink exactly once, exited ones at the sample they are gone from, and the JSON writer streams
// them into a document that parses.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "gprofid/analysis/diff_json.hpp"
#include "gprofid/analysis/diff_summary.hpp"
#include "gprofid/analysis/recording_reader.hpp"
#include "gprofid/recording/v2_encoder.hpp"
#include "gprofid/testing/synthetic_churn.hpp"

namespace gprofid {
namespace {

constexpr std::int64_t sec = 1'000'000'000;

std::string as_v2(const std::vector<sample>& samples, const symbol_tables& t) {
  v2_encoder enc({.keyframe_samples = 50, .keyframe_ns = 0});
  std::string out;
  enc.append_header(out, recording_header{});
  for (const auto& s : samples) enc.append_sample(out, s, t);
  v2_encoder::append_end(out, {.samples = samples.size(), .exit_status = 0, .signal = {}});
  return out;
}

TEST_CASE("after heavy churn the summary holds the live goroutines only") {
  // About 1000 live, some exiting and as many new each sample: ~1800 goroutines over 250
  // samples, each gone within 100 samples.
  const symbol_tables t = testing::churn_tables();
  const std::vector<sample> samples = testing::churn_samples(1000, 250);
  summary_options options;
  options.keep_goroutines = 0;
  for (bool changes : {false, true}) {
    INFO(std::string(changes ? "changes" : "whole samples"));
    summary_builder b({}, options);
    std::vector<std::uint64_t> streamed;
    b.stream_goroutines([&](const goroutine_lifecycle& l, bool, const symbol_tables&) {
      streamed.push_back(l.id);
    });
    std::size_t most = 0, most_live = 0;
    std::istringstream in(as_v2(samples, t));
    recording_reader r(in, "memory");
    sample_changes c;
    for (const auto& s : samples) {
      if (changes) {
        REQUIRE(r.next_changes(c));
        b.add(c, r.tables(), [&](sample& whole) { r.current(whole); });
      } else {
        b.add(s, t);
      }
      most = std::max(most, b.retained());
      most_live = std::max(most_live, s.goroutines.size());
    }
    // The live goroutines plus candidates for the 10 longest stuck (at most twice that): never
    // one per goroutine seen.
    CHECK(most <= most_live + 2 * 10);
    const diff_summary s = b.finish();
    CHECK(s.goroutines_seen > most_live + 700);
    CHECK(s.goroutines.empty());
    CHECK(s.goroutines_listed == s.goroutines_seen);
    CHECK(streamed.size() == s.goroutines_seen);
    std::vector<std::uint64_t> sorted = streamed;
    std::sort(sorted.begin(), sorted.end());
    CHECK(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());
    // Exited ones first (goroutine N exits at the first sample whose seq is N modulo 100: 101
    // at seq 1), the live ones last, by id.
    CHECK(streamed.front() == 101);
    CHECK(
        std::is_sorted(streamed.end() - static_cast<std::ptrdiff_t>(s.alive_end), streamed.end()));
    CHECK(s.exited == s.goroutines_seen - s.alive_end);
  }
}

goroutine_sample waiting(std::uint64_t id, std::int64_t t_ns) {
  goroutine_sample g = testing::parked_goroutine(id);
  g.reason = wait_reason::chan_send;  // never a background wait
  g.wait_ns = t_ns;
  return g;
}

goroutine_sample hogging(std::uint64_t id) {
  goroutine_sample g = testing::parked_goroutine(id, {.resumes = 5});
  g.state = goroutine_state::running;
  g.reason = wait_reason::none;
  return g;
}

// One sample a second for 25 s: goroutine 10 + i (i < 20) waits from 0 until it is gone at
// sample i + 3, stuck (i + 2) s; 100 waits throughout; 200 + i (i < 10) runs without yielding
// until it is gone at sample i + 2, (i + 1) s.
std::vector<sample> stuck_and_hogs() {
  std::vector<sample> out;
  for (std::int64_t k = 0; k < 25; ++k) {
    sample s{.seq = static_cast<std::uint64_t>(k), .time_ns = k * sec};
    for (std::int64_t i = 0; i < 20; ++i) {
      if (k < i + 3) s.goroutines.push_back(waiting(10 + static_cast<std::uint64_t>(i), k * sec));
    }
    s.goroutines.push_back(waiting(100, k * sec));
    for (std::int64_t i = 0; i < 10; ++i) {
      if (k < i + 2) s.goroutines.push_back(hogging(200 + static_cast<std::uint64_t>(i)));
    }
    out.push_back(std::move(s));
  }
  return out;
}

TEST_CASE("capped lists rank exited goroutines against live ones, omitted counted") {
  const symbol_tables t = testing::churn_tables();
  summary_options options;
  options.top = 3;
  options.keep_goroutines = 2;
  summary_builder b({}, options);
  std::vector<std::uint64_t> streamed;
  b.stream_goroutines(
      [&](const goroutine_lifecycle& l, bool, const symbol_tables&) { streamed.push_back(l.id); });
  for (const auto& s : stuck_and_hogs()) b.add(s, t);
  // 100, and twice the capped lists at most: the longest stuck and the first two by id.
  CHECK(b.retained() <= 1 + 2 * 3 + 2 * 2);
  const diff_summary s = b.finish();
  CHECK(s.stuck_threshold_ns == 3 * sec);
  std::vector<std::uint64_t> stuck, longest, hogs, warned, kept;
  for (const auto& r : s.stuck) stuck.push_back(r.id);
  for (const auto& l : s.longest_stuck) longest.push_back(l.id);
  for (const auto& r : s.never_yielded) hogs.push_back(r.id);
  for (const auto& w : s.warnings) warned.push_back(w.id);
  for (const auto& l : s.goroutines) kept.push_back(l.id);
  CHECK(stuck == std::vector<std::uint64_t>{100, 29, 28});
  CHECK(s.omitted.stuck == 19 + 1 - 3);  // 11..29 reach 3 s, and 100
  CHECK(longest == std::vector<std::uint64_t>{100, 29, 28});
  CHECK(hogs == std::vector<std::uint64_t>{209, 208, 207});
  CHECK(s.omitted.never_yielded == 7);
  CHECK(warned == std::vector<std::uint64_t>{200, 201, 202, 203, 204, 205, 206, 207, 208, 209});
  CHECK(kept == std::vector<std::uint64_t>{10, 11});
  CHECK(s.goroutines_listed == 31);
  CHECK(streamed.size() == 31);
  CHECK(streamed.back() == 100);
}

TEST_CASE("the JSON writer streams the lifecycles into one document") {
  const symbol_tables t = testing::churn_tables();
  for (bool summary_only : {true, false}) {
    INFO(std::string(summary_only ? "summary only" : "after the pairs"));
    std::ostringstream out;
    diff_json_writer w(out, false, {});
    if (summary_only) w.begin_summary();
    summary_options options;
    options.keep_goroutines = 0;
    summary_builder b({}, options);
    b.stream_goroutines(
        [&](const goroutine_lifecycle& l, bool followed, const symbol_tables& tables) {
          w.summary_goroutine(l, followed, tables);
        });
    for (const auto& s : stuck_and_hogs()) b.add(s, t);
    const diff_summary s = b.finish();
    w.summary(s, t);
    w.finish();
    const auto doc = nlohmann::ordered_json::parse(out.str());
    CHECK(doc["version"] == 2);
    const auto& gs = doc["summary"]["goroutines"];
    REQUIRE(gs.size() == 31);
    CHECK(gs[0]["id"] == 200);  // the first gone (sample 2)
    CHECK(gs[0]["exited_inside"] == true);
    CHECK(gs[30]["id"] == 100);
    CHECK(gs[30]["gone_ns"].is_null());
    CHECK(doc["summary"]["omitted"]["stuck"] == 20 - 10);
    CHECK(doc["summary"]["counts"]["seen"] == 31);
  }
}

}  // namespace
}  // namespace gprofid
