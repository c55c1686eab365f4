// recording_format: bytes per goroutine-sample of v1 and v2 (unchanged and changed goroutines),
// and read throughput of both formats in goroutine-samples per second on one thread, over a
// synthetic recording held in memory (no disk, no runtime): n goroutines, 10 samples, each
// sample 10% of the goroutines change (state, stack, counters), 1% exit and 1% are new.
#include <sstream>
#include <string>
#include <vector>

#include "bench_ops.hpp"
#include "gprofid/analysis/recording_reader.hpp"
#include "gprofid/clock.hpp"
#include "gprofid/recording/recording_writer.hpp"
#include "gprofid/recording/v2_encoder.hpp"

namespace gprofid::bench {

namespace {

constexpr int samples_per_recording = 10;

symbol_tables synthetic_tables() {
  symbol_tables t;
  t.sites = {{"main", "main.cpp", 10, 0x1000}, {"handler(request&)", "server.cpp", 42, 0x2000}};
  t.frames = {{"handler(request&)", "server.cpp", 57, 0x2100},
              {"read_body(conn&)", "server.cpp", 88, 0x2200},
              {"write_reply(conn&)", "server.cpp", 97, 0x2300}};
  t.stacks = {{0}, {1, 0}, {2, 0}};
  return t;
}

goroutine_sample parked(std::uint64_t id, std::int64_t t_ns) {
  goroutine_sample g;
  g.id = id;
  g.parent_id = 1;
  g.site = 1;
  g.stack = 1;
  g.state = goroutine_state::waiting;
  g.reason = wait_reason::chan_receive;
  g.created_ns = t_ns;
  g.resumes = 1;
  g.running_ns = 2'000;
  g.runnable_ns = 500;
  return g;
}

// The next sample: wait_ns grows for the waiting, every 10th (rotating) runs, 1% exit, 1% new.
sample step(const sample& prev, std::uint64_t& next_id, std::int64_t dt) {
  sample s;
  s.seq = prev.seq + 1;
  s.time_ns = prev.time_ns + dt;
  s.duration_ns = 1'000'000;
  const std::uint64_t phase = s.seq % 10;
  for (const auto& g0 : prev.goroutines) {
    if (g0.id % 100 == s.seq % 100 && g0.id != 1) continue;  // exits
    goroutine_sample g = g0;
    if (g.state == goroutine_state::waiting) g.wait_ns += dt;
    if (g.id % 10 == phase) {
      g.stack = g.stack == 1 ? 2 : 1;
      g.wait_ns = 1'000 + static_cast<std::int64_t>(g.id % 977);
      g.resumes += 1;
      g.running_ns += 12'345 + static_cast<std::int64_t>(g.id % 101);
      g.runnable_ns += 678;
    }
    s.goroutines.push_back(g);
  }
  const std::size_t fresh = prev.goroutines.size() / 100;
  for (std::size_t i = 0; i < fresh; ++i) s.goroutines.push_back(parked(next_id++, s.time_ns));
  return s;
}

std::vector<sample> synthetic_samples(std::int64_t n) {
  std::vector<sample> out(1);
  out[0].goroutines.reserve(static_cast<std::size_t>(n));
  for (std::int64_t i = 1; i <= n; ++i) out[0].goroutines.push_back(parked(i, 0));
  std::uint64_t next_id = static_cast<std::uint64_t>(n) + 1;
  while (out.size() < samples_per_recording) out.push_back(step(out.back(), next_id, 10'000'000));
  return out;
}

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

// Median of three reads: goroutine-samples per second.
double read_rate(const std::string& bytes) {
  std::vector<double> rates;
  for (int i = 0; i < 3; ++i) {
    std::istringstream in(bytes);
    const std::int64_t t0 = monotonic_ns();
    recording_reader r(in, "memory");
    sample s;
    std::uint64_t n = 0;
    while (r.next(s)) n += s.goroutines.size();
    rates.push_back(static_cast<double>(n) / (static_cast<double>(monotonic_ns() - t0) / 1e9));
  }
  return median(rates);
}

}  // namespace

std::vector<result> recording_format(const job& j) {
  const symbol_tables t = synthetic_tables();
  const std::vector<sample> samples = synthetic_samples(j.n);
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
  const double v2_rate = read_rate(v2);
  const double v1_rate = read_rate(v1);
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
  };
}

}  // namespace gprofid::bench
