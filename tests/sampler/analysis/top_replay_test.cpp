// `gprof-id top`'s replay of a recording file: holding two samples, it shows at every position
// what the in-memory session of the whole recording shows (the same samples, rows, warnings and
// followed goroutine), going forward, back across keyframes and jumping, in v1 and v2; and the
// reader's restart at a keyframe it found.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "gprofid/analysis/recording_reader.hpp"
#include "gprofid/analysis/sample_changes.hpp"
#include "gprofid/analysis/top_replay.hpp"
#include "gprofid/analysis/top_session.hpp"
#include "gprofid/recording/recording_writer.hpp"
#include "gprofid/testing/synthetic_churn.hpp"

namespace gprofid {
namespace {

constexpr std::uint64_t stuck_id = 1'000'000;

// 250 samples of the churn (keyframes at 0, 100 and 200 in v2), plus goroutine 1000000 waiting
// on a mutex from the start and never resumed: stuck once its wait passes 1 s.
std::vector<sample> story() {
  auto samples = testing::churn_samples(200, 250);
  for (sample& s : samples) {
    goroutine_sample g = testing::parked_goroutine(stuck_id);
    g.reason = wait_reason::mutex_lock;
    g.stack = 0;
    g.wait_ns = s.time_ns + 500'000'000;
    s.goroutines.push_back(g);
  }
  return samples;
}

struct recording_file {
  std::string path;
  explicit recording_file(recording_encoding e) {
    path = (std::filesystem::temp_directory_path() /
            ("gprofid-top-replay-" + std::to_string(::getpid()) + "." + std::string(to_string(e))))
               .string();
    recording_writer w = recording_writer::create(path, e);
    recording_header h;
    h.workload = "churn";
    h.interval_ns = 10'000'000;
    w.write_header(h);
    const symbol_tables t = testing::churn_tables();
    for (const sample& s : story()) w.write_sample(s, t);
    w.write_end({.samples = 250, .exit_status = 0, .signal = {}});
  }
  ~recording_file() { std::filesystem::remove(path); }
};

void check_same_sample(const sample& a, const sample& b) {
  CHECK(a.seq == b.seq);
  CHECK(a.time_ns == b.time_ns);
  REQUIRE(a.goroutines.size() == b.goroutines.size());
  for (std::size_t i = 0; i < a.goroutines.size(); ++i) {
    CHECK(unchanged(a.goroutines[i], b.goroutines[i], 0));
    CHECK(a.goroutines[i].wait_ns == b.goroutines[i].wait_ns);
  }
}

void check_same_view(const top_session& replay, const top_session& whole) {
  CAPTURE(whole.position());
  REQUIRE(replay.position() == whole.position());
  CHECK(replay.size() == whole.size());
  check_same_sample(replay.current(), whole.current());
  REQUIRE((replay.previous() == nullptr) == (whole.previous() == nullptr));
  if (whole.previous()) check_same_sample(*replay.previous(), *whole.previous());
  REQUIRE(replay.table().size() == whole.table().size());
  for (std::size_t i = 0; i < whole.table().size(); ++i) {
    CHECK(replay.table()[i].g->id == whole.table()[i].g->id);
    CHECK(replay.table()[i].busy == whole.table()[i].busy);
  }
  const auto& rw = replay.warnings();
  const auto& ww = whole.warnings();
  REQUIRE(rw.lines.size() == ww.lines.size());
  for (std::size_t i = 0; i < ww.lines.size(); ++i) CHECK(rw.lines[i].text == ww.lines[i].text);
  CHECK(rw.marks == ww.marks);
  REQUIRE(replay.followed().has_value() == whole.followed().has_value());
  if (!whole.followed()) return;
  const top_followed& r = *replay.followed();
  const top_followed& w = *whole.followed();
  CHECK(r.present == w.present);
  CHECK(r.exited == w.exited);
  CHECK(r.exited_by_seq == w.exited_by_seq);
  CHECK(r.last_seen_seq == w.last_seen_seq);
  REQUIRE(r.last_seen.has_value() == w.last_seen.has_value());
  if (w.last_seen) CHECK(r.last_seen->wait_ns == w.last_seen->wait_ns);
  REQUIRE(r.history.size() == w.history.size());
  for (std::size_t i = 0; i < w.history.size(); ++i) {
    CHECK(r.history[i].seq == w.history[i].seq);
    CHECK(r.history[i].present == w.history[i].present);
    CHECK(r.history[i].stack == w.history[i].stack);
  }
  REQUIRE(r.stack_since.has_value() == w.stack_since.has_value());
  if (w.stack_since) CHECK(r.stack_since->seq == w.stack_since->seq);
}

TEST_CASE("a replay shows at every position what the whole recording in memory shows") {
  for (auto e : {recording_encoding::v2, recording_encoding::jsonl}) {
    CAPTURE(to_string(e));
    recording_file file(e);
    top_options whole_options;
    whole_options.follow_latest = false;
    whole_options.max_records = static_cast<std::size_t>(-1);
    top_session whole(whole_options);
    whole.tables() = testing::churn_tables();
    whole.add(story());
    auto replay_source = std::make_unique<top_replay>(file.path);
    // v2: its keyframes (0, 100, 200); v1: samples 0, 64, 128, 192.
    CHECK(replay_source->keyframes() == (e == recording_encoding::v2 ? 3 : 4));
    top_session replay({}, std::move(replay_source));
    CHECK(replay.size() == 250);
    check_same_view(replay, whole);
    // 201 is created at seq 1 and exits at seq 101; the stuck one never changes.
    for (std::uint64_t id : {std::uint64_t{201}, stuck_id}) {
      CAPTURE(id);
      replay.follow(id);
      whole.follow(id);
      for (std::size_t at : {1, 2, 150, 149, 148, 101, 100, 99, 249, 5, 0, 200, 199, 102, 60}) {
        replay.seek(at);
        whole.seek(at);
        check_same_view(replay, whole);
      }
      replay.step(1);
      whole.step(1);
      check_same_view(replay, whole);
    }
    // The stuck goroutine is in the warnings at the end, not at the start.
    replay.seek(249);
    CHECK(replay.warnings().mark_of(stuck_id) == top_mark::stuck);
    replay.seek(0);
    CHECK(replay.warnings().mark_of(stuck_id) == top_mark::none);
  }
}

TEST_CASE(
    "a reader restarts at a keyframe (v2) or sample line (v1) it read, warning of nothing twice") {
  for (auto e : {recording_encoding::v2, recording_encoding::jsonl}) {
    CAPTURE(to_string(e));
    recording_file file(e);
    recording_reader r(file.path);
    std::vector<std::pair<std::size_t, recording_restart_point>> keyframes;
    sample_changes c;
    std::vector<sample> seen;
    for (std::size_t i = 0; r.next_changes(c); ++i) {
      if (auto p = r.restart_point()) keyframes.emplace_back(i, *p);
      sample s;
      r.current(s);
      seen.push_back(std::move(s));
    }
    if (e == recording_encoding::jsonl) {
      REQUIRE(keyframes.size() == 250);  // every sample line
      keyframes = {keyframes[0], keyframes[100], keyframes[249]};
    }
    REQUIRE(keyframes.size() == 3);
    CHECK(keyframes[1].first == 100);
    const auto warnings = r.warnings();
    r.restart(keyframes[1].second);
    REQUIRE(r.next_changes(c));
    CHECK(c.first);  // everything created, as a first sample
    CHECK(c.created.size() == seen[100].goroutines.size());
    sample s;
    r.current(s);
    check_same_sample(s, seen[100]);
    REQUIRE(r.next_changes(c));
    CHECK(!c.first);
    r.current(s);
    check_same_sample(s, seen[101]);
    std::size_t n = 102;
    while (r.next_changes(c)) ++n;
    CHECK(n == 250);
    CHECK(r.warnings() == warnings);
    CHECK(r.end().has_value());
    // A point past what was read cannot be restarted at.
    recording_reader fresh(file.path);
    CHECK_THROWS_AS(fresh.restart(keyframes[2].second), recording_error);
  }
}

}  // namespace
}  // namespace gprofid
