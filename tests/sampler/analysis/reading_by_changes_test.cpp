// Commands on changes: recording_reader::skip_to gives the sample next() would, from any
// keyframe (v2 from a seekable stream starts at the last keyframe before it) or by reading on
// (v1, a pipe); skip_rest counts what is left; the trace and folded exports fed with changes
// write what they write fed with whole samples, byte for byte, on plain and hostile recordings.
#include <doctest/doctest.h>

#include <limits>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include "gprofid/analysis/export_folded.hpp"
#include "gprofid/analysis/export_trace.hpp"
#include "gprofid/analysis/recording_reader.hpp"
#include "gprofid/recording/recording_writer.hpp"
#include "gprofid/recording/v2_encoder.hpp"
#include "gprofid/testing/synthetic_churn.hpp"

namespace gprofid {
namespace {

constexpr std::int64_t ms = 1'000'000;

std::string as_v2(const std::vector<sample>& samples, const symbol_tables& t, std::uint32_t k) {
  v2_encoder enc({.keyframe_samples = k, .keyframe_ns = 0});
  std::string out;
  enc.append_header(out, recording_header{});
  for (const auto& s : samples) enc.append_sample(out, s, t);
  v2_encoder::append_end(out, {.samples = samples.size(), .exit_status = 0, .signal = {}});
  return out;
}

std::string as_v1(const std::vector<sample>& samples, const symbol_tables& t) {
  std::ostringstream out;
  recording_writer w(out, "memory", recording_encoding::jsonl);
  w.write_header(recording_header{});
  for (const auto& s : samples) w.write_sample(s, t);
  w.write_end({.samples = samples.size(), .exit_status = 0, .signal = {}});
  return std::move(out).str();
}

// A stream that cannot seek, as a pipe.
class pipe_buffer : public std::streambuf {
 public:
  explicit pipe_buffer(std::string bytes) : bytes_(std::move(bytes)) {
    setg(bytes_.data(), bytes_.data(), bytes_.data() + bytes_.size());
  }

 private:
  std::string bytes_;
};

// The churn with a goroutine that dies, labels that come and go, a mutex graph, a seq repeated
// (a warning) and, if `hostile`, times and waits the shortcuts must not take: a time that goes
// back, a negative time, a negative wait and one near 2^63. (The churn's goroutine N exits at
// sample N % 100: those used here live through the 23 samples.)
std::vector<sample> recording_samples(bool hostile) {
  std::vector<sample> out = testing::churn_samples(200, 23);
  const auto tenant = std::make_shared<const label_set>(label_set{{"tenant", "a"}});
  for (std::size_t i = 0; i < out.size(); ++i) {
    sample& s = out[i];
    for (auto& g : s.goroutines) {
      if (g.id == 150 && i >= 6) g.state = goroutine_state::dead;
      if (g.id % 9 == 0 && i % 4 < 2) g.labels = tenant;
      if (g.id == 1) g.state = i % 3 ? goroutine_state::running : goroutine_state::runnable;
      if (hostile && g.id == 160 && i >= 8) g.wait_ns = -7 * ms;
      if (hostile && g.id == 170 && i >= 15)
        g.wait_ns = std::numeric_limits<std::int64_t>::max() - 3;
    }
    if (i == 9) s.seq = 8;
    if (i >= 10 && i < 13) {
      wait_object m;
      m.id = 0x3000;
      m.kind = wait_object_kind::mutex;
      m.locked = true;
      m.owner = 140;
      s.objects = {m};
    }
    if (hostile && i == 12) s.time_ns -= 35 * ms;
    if (hostile && i == 17) s.time_ns = -ms;
  }
  return out;
}

std::vector<sample> read_all(const std::string& bytes, std::vector<std::string>& warnings) {
  std::istringstream in(bytes);
  recording_reader r(in, "memory");
  std::vector<sample> out;
  sample s;
  while (r.next(s)) out.push_back(s);
  warnings = r.warnings();
  return out;
}

void check_same(const sample& a, const sample& b) {
  CHECK(a.seq == b.seq);
  CHECK(a.time_ns == b.time_ns);
  REQUIRE(a.goroutines.size() == b.goroutines.size());
  for (std::size_t k = 0; k < a.goroutines.size(); ++k) {
    goroutine_sample x = a.goroutines[k], y = b.goroutines[k];
    CHECK(x.wait_ns == y.wait_ns);
    x.wait_ns = y.wait_ns = 0;  // (unchanged() predicts waits)
    CHECK(unchanged(x, y, 0));
  }
  CHECK(a.objects == b.objects);
}

void check_skips(const std::string& bytes, bool seekable) {
  std::vector<std::string> warnings;
  const std::vector<sample> want = read_all(bytes, warnings);
  REQUIRE(want.size() == 23);
  REQUIRE(warnings.size() == 1);  // the repeated seq
  for (std::size_t i = 0; i <= want.size(); ++i) {
    INFO("skip_to ", i);
    std::istringstream file(bytes);
    pipe_buffer pipe(bytes);
    std::istream piped(&pipe);
    recording_reader r(seekable ? static_cast<std::istream&>(file) : piped, "memory");
    if (i == want.size()) {
      CHECK_FALSE(r.skip_to(i));
      CHECK(r.samples_read() == want.size());
      CHECK(r.warnings() == warnings);
      continue;
    }
    REQUIRE(r.skip_to(i));
    CHECK(r.samples_read() == i + 1);
    sample s;
    r.current(s);
    check_same(s, want[i]);
    CHECK(r.skip_to(i));  // already there
    if (i + 2 < want.size()) {
      // Changes go on from it, and a later skip_to from there.
      sample_changes c;
      REQUIRE(r.next_changes(c));
      r.current(s);
      check_same(s, want[i + 1]);
      REQUIRE(r.skip_to(i + 2));
      r.current(s);
      check_same(s, want[i + 2]);
    }
    CHECK(r.samples_read() + r.skip_rest() == want.size());
    CHECK(r.warnings() == warnings);
    CHECK(r.end().has_value());
  }
}

TEST_CASE("skip_to gives the sample next() gives, whatever the keyframes; skip_rest counts") {
  const symbol_tables t = testing::churn_tables();
  for (const bool hostile : {false, true}) {
    const std::vector<sample> samples = recording_samples(hostile);
    for (const std::uint32_t k : {1u, 4u, 7u, 100u}) {
      INFO("v2, a keyframe every ", k, ", hostile ", hostile);
      check_skips(as_v2(samples, t, k), true);
      check_skips(as_v2(samples, t, k), false);
    }
    INFO("v1, hostile ", hostile);
    check_skips(as_v1(samples, t), true);
  }
}

std::string trace_of(const std::string& bytes, bool by_changes) {
  std::istringstream in(bytes);
  recording_reader r(in, "memory");
  std::string out;
  trace_writer w([&](std::string_view piece) { out += piece; });
  if (by_changes) {
    sample_changes c;
    const std::function<void(sample&)> whole = [&](sample& s) { r.current(s); };
    while (r.next_changes(c)) w.add(r.tables(), c, whole);
  } else {
    sample s;
    while (r.next(s)) w.add(r.tables(), s);
  }
  w.finish(r.tables());
  return out;
}

std::string folded_of(const std::string& bytes, folded_options o, bool by_changes) {
  std::istringstream in(bytes);
  recording_reader r(in, "memory");
  folded_builder b(o);
  if (by_changes) {
    sample_changes c;
    const std::function<void(sample&)> whole = [&](sample& s) { r.current(s); };
    while (r.next_changes(c)) b.add(r.tables(), c, whole);
  } else {
    sample s;
    while (r.next(s)) b.add(r.tables(), s);
  }
  return b.str();
}

TEST_CASE("trace and folded exports from changes are the exports from whole samples") {
  const symbol_tables t = testing::churn_tables();
  for (const bool hostile : {false, true}) {
    const std::vector<sample> samples = recording_samples(hostile);
    for (const std::string& bytes : {as_v2(samples, t, 5), as_v1(samples, t)}) {
      const char* format = bytes[0] == '{' ? "v1" : "v2";
      INFO(format, ", hostile ", hostile);
      const std::string trace = trace_of(bytes, false);
      CHECK(trace.find("\"ph\":\"s\"") != std::string::npos);  // spawn arrows drawn
      CHECK(trace_of(bytes, true) == trace);
      for (const auto weight : {folded_weight::goroutines, folded_weight::waiting_time}) {
        for (const bool lines : {false, true}) {
          const folded_options o{.weight = weight, .lines = lines};
          const std::string folded = folded_of(bytes, o, false);
          CHECK_FALSE(folded.empty());
          CHECK(folded_of(bytes, o, true) == folded);
        }
      }
    }
  }
}

}  // namespace
}  // namespace gprofid
