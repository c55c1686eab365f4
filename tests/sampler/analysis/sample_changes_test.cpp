// Reading a recording as changes (recording_reader::next_changes): for v1 and v2 (keyframes
// included) it names exactly the goroutines that were created, exited and changed, the sample it
// describes is the one next() returns, and the summary built from changes is the summary built
// from whole samples, whatever the filter, for stuck, never-yielded, leaked, deadlocked and
// growing goroutines and for times that do not increase.
#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "gprofid/analysis/diff_json.hpp"
#include "gprofid/analysis/diff_summary.hpp"
#include "gprofid/analysis/recording_reader.hpp"
#include "gprofid/analysis/sample_changes.hpp"
#include "gprofid/recording/recording_writer.hpp"
#include "gprofid/recording/v2_encoder.hpp"
#include "gprofid/testing/synthetic_churn.hpp"

namespace gprofid {
namespace {

constexpr std::int64_t ms = 1'000'000;

goroutine_sample* find_mutable(sample& s, std::uint64_t id) {
  for (auto& g : s.goroutines) {
    if (g.id == id) return &g;
  }
  return nullptr;
}

// The churn, plus what the summary looks for: a goroutine that holds its worker (1), one in a
// nil wait from sample 5 (41), a mutex deadlock between 43 and 44 in samples 10-14, labels, a
// wait near the limits of the arithmetic (45), and a time that stands still (sample 18). (The
// churn's goroutine N exits at sample N.)
std::vector<sample> summary_samples() {
  std::vector<sample> out = testing::churn_samples(300, 24);
  const auto tenant = std::make_shared<const label_set>(label_set{{"tenant", "a"}});
  for (std::size_t i = 0; i < out.size(); ++i) {
    sample& s = out[i];
    if (i >= 18) s.time_ns -= 10 * ms;  // sample 18 at the time of 17, the rest follow
    if (goroutine_sample* g = find_mutable(s, 1)) {
      g->state = i < 12 ? goroutine_state::running : goroutine_state::waiting;
      g->reason = i < 12 ? wait_reason::none : wait_reason::sleep;
      g->wait_ns = i < 12 ? 0 : static_cast<std::int64_t>(i - 12) * 10 * ms;
      if (i < 12) g->resumes = 1;
    }
    if (goroutine_sample* g = find_mutable(s, 41); g && i >= 5) {
      g->reason = wait_reason::chan_receive_nil;
      g->wait_ns = static_cast<std::int64_t>(i - 5) * 10 * ms;
      g->stack = 0;
    }
    if (goroutine_sample* g = find_mutable(s, 45)) g->wait_ns = (std::int64_t{1} << 62) + s.time_ns;
    for (auto& g : s.goroutines) {
      if (g.id % 7 == 0) g.labels = tenant;
    }
    if (i >= 10 && i < 15) {
      wait_object m3, m4;
      m3.id = 0x3000;
      m3.kind = wait_object_kind::mutex;
      m3.locked = true;
      m3.owner = 44;
      m4.id = 0x4000;
      m4.kind = wait_object_kind::mutex;
      m4.locked = true;
      m4.owner = 43;
      s.objects = {m3, m4};
      for (std::uint64_t id : {43, 44}) {
        if (goroutine_sample* g = find_mutable(s, id)) {
          g->reason = wait_reason::mutex_lock;
          g->blocked_on = id == 43 ? 0x4000 : 0x3000;
        }
      }
    }
  }
  return out;
}

std::string as_v2(const std::vector<sample>& samples, const symbol_tables& t) {
  v2_encoder enc({.keyframe_samples = 7, .keyframe_ns = 0});
  std::string out;
  recording_header h;
  h.workload = "changes";
  enc.append_header(out, h);
  for (const auto& s : samples) enc.append_sample(out, s, t);
  v2_encoder::append_end(out, {.samples = samples.size(), .exit_status = 0, .signal = {}});
  return out;
}

std::string as_v1(const std::vector<sample>& samples, const symbol_tables& t) {
  std::ostringstream out;
  recording_writer w(out, "memory", recording_encoding::jsonl);
  recording_header h;
  h.workload = "changes";
  w.write_header(h);
  for (const auto& s : samples) w.write_sample(s, t);
  w.write_end({.samples = samples.size(), .exit_status = 0, .signal = {}});
  return std::move(out).str();
}

// Every field equal: unchanged() with the waits set aside (it predicts them).
bool same_goroutine(const goroutine_sample& a, const goroutine_sample& b) {
  goroutine_sample x = a, y = b;
  x.wait_ns = y.wait_ns = 0;
  return unchanged(x, y, 0) && a.wait_ns == b.wait_ns;
}

std::vector<std::uint64_t> ids(const std::vector<goroutine_sample>& gs) {
  std::vector<std::uint64_t> out;
  for (const auto& g : gs) out.push_back(g.id);
  return out;
}

void check_reads_changes(const std::string& bytes, const std::vector<sample>& want) {
  std::istringstream in(bytes);
  recording_reader r(in, "memory");
  sample_changes c;
  sample whole;
  std::size_t i = 0;
  while (r.next_changes(c)) {
    REQUIRE(i < want.size());
    INFO("sample ", i);
    sample_changes expect;
    changes_between(i ? want[i - 1].goroutines : std::vector<goroutine_sample>{},
                    i ? want[i - 1].time_ns : 0, want[i].goroutines, want[i].time_ns, expect);
    CHECK(c.first == (i == 0));
    CHECK(c.seq == want[i].seq);
    CHECK(c.time_ns == want[i].time_ns);
    CHECK(c.alive == want[i].goroutines.size());
    CHECK(c.objects == want[i].objects.size());
    CHECK(ids(c.created) == ids(expect.created));
    CHECK(ids(c.exited) == ids(expect.exited));
    CHECK(ids(c.changed_after) == ids(expect.changed_after));
    REQUIRE(c.changed_before.size() == c.changed_after.size());
    for (std::size_t k = 0; k < c.changed_before.size(); ++k) {
      CHECK(same_goroutine(c.changed_before[k], expect.changed_before[k]));
      CHECK(same_goroutine(c.changed_after[k], expect.changed_after[k]));
    }
    r.current(whole);
    REQUIRE(whole.goroutines.size() == want[i].goroutines.size());
    for (std::size_t k = 0; k < whole.goroutines.size(); ++k) {
      CHECK(same_goroutine(whole.goroutines[k], want[i].goroutines[k]));
    }
    CHECK(whole.objects == want[i].objects);
    ++i;
  }
  CHECK(i == want.size());
  CHECK(r.end().has_value());
}

TEST_CASE("next_changes: v1 and v2 name what changed, and current() is the whole sample") {
  const symbol_tables t = testing::churn_tables();
  const std::vector<sample> samples = summary_samples();
  SUBCASE("v2, a keyframe every 7 samples") {
    check_reads_changes(as_v2(samples, t), samples);
  }
  SUBCASE("v1") {
    check_reads_changes(as_v1(samples, t), samples);
  }
}

TEST_CASE("next_changes: an unchanged sample names nothing, a waiting goroutine's wait grows") {
  const symbol_tables t = testing::churn_tables();
  std::vector<sample> samples(3);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    samples[i].seq = i;
    samples[i].time_ns = static_cast<std::int64_t>(i) * 10 * ms;
    samples[i].goroutines = {testing::parked_goroutine(7, {.wait_ns = samples[i].time_ns + 5})};
  }
  std::istringstream in(as_v2(samples, t));
  recording_reader r(in, "memory");
  sample_changes c;
  REQUIRE(r.next_changes(c));
  CHECK(c.created.size() == 1);
  REQUIRE(r.next_changes(c));
  CHECK(c.created.empty());
  CHECK(c.exited.empty());
  CHECK(c.changed_after.empty());
  REQUIRE(r.next_changes(c));
  CHECK(c.changed_after.empty());
  sample whole;
  r.current(whole);
  REQUIRE(whole.goroutines.size() == 1);
  CHECK(whole.goroutines[0].wait_ns == 20 * ms + 5);
  CHECK_FALSE(r.next_changes(c));
}

std::string summary_text(const diff_summary& s, const symbol_tables& t) {
  return summary_to_json(s, t).dump();
}

TEST_CASE("summary from changes is the summary from whole samples") {
  const symbol_tables t = testing::churn_tables();
  const std::vector<sample> samples = summary_samples();
  std::vector<goroutine_filter> filters(5);
  filters[1].ids = {1, 2, 41, 43, 44, 45, 50};
  filters[2].labels = {{"tenant", "a"}};
  filters[3].state = goroutine_state::waiting;
  filters[4].min_stuck_ns = 25 * ms;
  for (const std::string& bytes : {as_v2(samples, t), as_v1(samples, t)}) {
    for (std::size_t f = 0; f < filters.size(); ++f) {
      INFO("filter ", f, bytes[0] == '{' ? " v1" : " v2");
      summary_builder whole_samples(filters[f], summary_options{.top = 0});
      for (const auto& s : samples) whole_samples.add(s, t);
      std::istringstream in(bytes);
      recording_reader r(in, "memory");
      summary_builder changes(filters[f], summary_options{.top = 0});
      sample_changes c;
      std::size_t wholes = 0;
      while (r.next_changes(c)) {
        changes.add(c, r.tables(), [&](sample& s) {
          ++wholes;
          r.current(s);
        });
      }
      const diff_summary a = whole_samples.finish();
      const diff_summary b = changes.finish();
      if (f == 0) {
        CHECK_FALSE(a.deadlocks.empty());
        CHECK(a.leaks.size() == 1);
        CHECK_FALSE(a.warnings.empty());  // 1 never yielded
      }
      CHECK(summary_text(b, r.tables()) == summary_text(a, t));
      // Only the samples whose graph can prove something were made whole: 41's nil wait from
      // sample 5 on (the deadlock's samples are among them).
      CHECK(wholes == samples.size() - 5);
    }
  }
}

TEST_CASE("a first sample in pieces: its created goroutines in order, the same summary") {
  const symbol_tables t = testing::churn_tables();
  const std::vector<sample> samples = summary_samples();
  const std::string bytes = as_v2(samples, t);
  summary_builder whole_samples(goroutine_filter{}, summary_options{.top = 0});
  for (const auto& s : samples) whole_samples.add(s, t);
  const std::string want = summary_text(whole_samples.finish(), t);
  for (const std::size_t piece : {1, 7, 299, 300, 301}) {
    INFO("piece ", piece);
    std::istringstream in(bytes);
    recording_reader r(in, "memory");
    r.set_piece_size(piece);
    summary_builder changes(goroutine_filter{}, summary_options{.top = 0});
    sample_changes c;
    std::vector<std::uint64_t> first_ids;
    std::size_t pieces = 0, delivered = 0;
    bool in_first = true;
    while (r.next_changes(c)) {
      ++delivered;
      if (in_first) {
        // Counted when its last piece is read.
        CHECK(r.samples_read() == (c.more ? 0 : 1));
        CHECK(c.first);
        CHECK(c.created.size() <= piece);
        CHECK(c.exited.empty());
        CHECK(c.changed_after.empty());
        for (const auto& g : c.created) first_ids.push_back(g.id);
        ++pieces;
        in_first = c.more;
      } else {
        CHECK_FALSE(c.more);
      }
      changes.add(c, r.tables(), [&](sample& s) { r.current(s); });
    }
    std::vector<std::uint64_t> ids;
    for (const auto& g : samples[0].goroutines) ids.push_back(g.id);
    CHECK(first_ids == ids);
    CHECK(pieces == (ids.size() + piece - 1) / piece);
    CHECK(delivered == samples.size() - 1 + pieces);
    CHECK(r.samples_read() == samples.size());
    CHECK(summary_text(changes.finish(), r.tables()) == want);
  }
}

}  // namespace
}  // namespace gprofid
