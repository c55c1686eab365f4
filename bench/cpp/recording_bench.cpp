// recording_format: bytes per goroutine-sample of v1 and v2 (unchanged and changed goroutines),
// and read throughput of both formats in goroutine-samples per second on one thread (whole
// samples, changes, and the summary `diff --summary` builds from them), over a
// synthetic recording held in memory (no disk, no runtime): n goroutines, 10 samples, each
// sample 10% of the goroutines change (state, stack, counters), 1% exit and 1% are new.
#include <sstream>
#include <string>
#include <vector>

#include "bench_ops.hpp"
#include "gprofid/analysis/diff_summary.hpp"
#include "gprofid/analysis/recording_reader.hpp"
#include "gprofid/clock.hpp"
#include "gprofid/recording/recording_writer.hpp"
#include "gprofid/recording/v2_encoder.hpp"
#include "gprofid/testing/synthetic_churn.hpp"

namespace gprofid::bench {

namespace {

constexpr std::size_t samples_per_recording = 10;

std::string write_all(const std::vector<sample>& samples, const symbol_tables& t,
                      recording_encoding enc) {
  std::ostringstream out;
  recording_writer w(out, "memory", enc);
  recording_header h;
  h.workload = "bench recording_format";
  w.write_header(h);
  for (const auto& s : samples) w.write_sample(s, t);
  w.write_end({.samples = samples.size(), .exit_status = {}, .signal = {}});
  return std::move(out).str();
}

// Median of three runs of `read` (which returns the goroutine-samples it read) over `bytes`:
// goroutine-samples per second.
template <class Read>
double rate(const std::string& bytes, Read read) {
  std::vector<double> rates;
  for (int i = 0; i < 3; ++i) {
    std::istringstream in(bytes);
    const std::int64_t t0 = monotonic_ns();
    recording_reader r(in, "memory");
    const std::uint64_t n = read(r);
    rates.push_back(static_cast<double>(n) / (static_cast<double>(monotonic_ns() - t0) / 1e9));
  }
  return median(rates);
}

// Every sample whole (next()).
std::uint64_t read_samples(recording_reader& r) {
  sample s;
  std::uint64_t n = 0;
  while (r.next(s)) n += s.goroutines.size();
  return n;
}

// Every sample as what changed (next_changes()).
std::uint64_t read_changes(recording_reader& r) {
  sample_changes c;
  std::uint64_t n = 0;
  while (r.next_changes(c)) n += c.alive;
  return n;
}

// What `gprof-id diff --summary` does: the summary from changes, finished.
std::uint64_t summarise(recording_reader& r) {
  summary_builder summary;
  sample_changes c;
  std::uint64_t n = 0;
  const auto whole = [&r](sample& s) { r.current(s); };
  while (r.next_changes(c)) {
    summary.add(c, r.tables(), whole);
    n += c.alive;
  }
  const diff_summary d = summary.finish();
  return d.samples > 0 ? n : 0;
}

// The summary from whole samples, as before next_changes().
std::uint64_t summarise_samples(recording_reader& r) {
  summary_builder summary;
  sample s;
  std::uint64_t n = 0;
  while (r.next(s)) {
    summary.add(s, r.tables());
    n += s.goroutines.size();
  }
  const diff_summary d = summary.finish();
  return d.samples > 0 ? n : 0;
}

}  // namespace

std::vector<result> recording_format(const job& j) {
  const symbol_tables t = testing::churn_tables();
  const std::vector<sample> samples = testing::churn_samples(j.n, samples_per_recording);
  std::uint64_t goroutine_samples = 0;
  for (const auto& s : samples) goroutine_samples += s.goroutines.size();
  const std::string v1 = write_all(samples, t, recording_encoding::jsonl);
  const std::string v2 = write_all(samples, t, recording_encoding::v2);

  // Unchanged: a keyframe, then the same goroutines with only the time advanced (waiting
  // goroutines' wait_ns grows as predicted). Changed: every goroutine changes.
  v2_options raw;
  raw.zstd_level = 0;
  v2_encoder enc(raw);
  std::string bytes;
  sample s = samples[0];
  enc.append_sample(bytes, s, t);
  const std::size_t keyframe = bytes.size();
  s.seq = 1;
  s.time_ns += 10'000'000;
  for (auto& g : s.goroutines) g.wait_ns += 10'000'000;
  enc.append_sample(bytes, s, t);
  const std::size_t unchanged = bytes.size() - keyframe;
  s.seq = 2;
  s.time_ns += 10'000'000;
  for (auto& g : s.goroutines) {
    g.stack = 2;
    g.wait_ns = 1'000;
    g.resumes += 1;
    g.running_ns += 12'345;
    g.runnable_ns += 678;
  }
  const std::size_t before_changed = bytes.size();
  enc.append_sample(bytes, s, t);
  const double per = static_cast<double>(s.goroutines.size());
  const double gs = static_cast<double>(goroutine_samples);
  const double v2_rate = rate(v2, read_samples);
  const double v1_rate = rate(v1, read_samples);
  return {
      {.op = "recording_bytes_v2_unchanged",
       .n = j.n,
       .value = round3(static_cast<double>(unchanged) / per),
       .unit = "bytes/goroutine/sample",
       .extra = {{"sample_block_bytes", unchanged},
                 {"keyframe_bytes_per_goroutine", round3(static_cast<double>(keyframe) / per)}}},
      {.op = "recording_bytes_v2_changed",
       .n = j.n,
       .value = round3(static_cast<double>(bytes.size() - before_changed) / per),
       .unit = "bytes/goroutine/sample",
       .extra = {{"fields", "stack, wait_ns, resumes, running_ns, runnable_ns"}}},
      {.op = "recording_bytes_churn",
       .n = j.n,
       .value = round3(static_cast<double>(v2.size()) / gs),
       .unit = "bytes/goroutine/sample",
       .extra = {{"v1_bytes_per_goroutine_sample", round3(static_cast<double>(v1.size()) / gs)},
                 {"v1_bytes", v1.size()},
                 {"v2_bytes", v2.size()},
                 {"samples", samples.size()},
                 {"goroutine_samples", goroutine_samples}}},
      {.op = "read_v2",
       .n = j.n,
       .value = round3(v2_rate),
       .unit = "goroutine-samples/s",
       .extra = {{"bytes", v2.size()}, {"samples", samples.size()}}},
      {.op = "read_v1",
       .n = j.n,
       .value = round3(v1_rate),
       .unit = "goroutine-samples/s",
       .extra = {{"bytes", v1.size()}, {"samples", samples.size()}}},
      {.op = "read_v2_changes",
       .n = j.n,
       .value = round3(rate(v2, read_changes)),
       .unit = "goroutine-samples/s",
       .extra = {{"reader", "next_changes"}}},
      {.op = "read_v1_changes",
       .n = j.n,
       .value = round3(rate(v1, read_changes)),
       .unit = "goroutine-samples/s",
       .extra = {{"reader", "next_changes"}}},
      {.op = "summary_v2",
       .n = j.n,
       .value = round3(rate(v2, summarise)),
       .unit = "goroutine-samples/s",
       .extra = {{"whole_samples", round3(rate(v2, summarise_samples))}}},
      {.op = "summary_v1",
       .n = j.n,
       .value = round3(rate(v1, summarise)),
       .unit = "goroutine-samples/s",
       .extra = {{"whole_samples", round3(rate(v1, summarise_samples))}}},
  };
}

}  // namespace gprofid::bench
