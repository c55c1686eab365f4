// sampling_overhead: throughput lost by a mixed CPU + channel workload of 10k goroutines when
// the periodic sampler records it at 100 Hz to a file (bench/go/sampling.go).
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "bench_ops.hpp"
#include "gprofid/clock.hpp"
#include "gprofid/recorder/periodic_sampler.hpp"
#include "gprofid/runtime.hpp"
#include "gprofid/sleep.hpp"

namespace gprofid::bench {

namespace {

constexpr std::int64_t sample_interval_ns = 10'000'000;  // 100 Hz
constexpr std::uint64_t spin_iters = 1024;
constexpr auto mixed_warmup = std::chrono::milliseconds(100);

// The CPU part: a dependent xor/multiply chain (FNV-1a style), as in Go's spin().
std::uint64_t spin(std::uint64_t h) {
  for (std::uint64_t i = 0; i < spin_iters; ++i) {
    h ^= i;
    h *= 1099511628211ULL;
  }
  return h;
}

double measure_spin() {
  constexpr int k = 2000;
  std::uint64_t h = 1;
  const std::int64_t t0 = monotonic_ns();
  for (int i = 0; i < k; ++i) h = spin(h);
  const std::int64_t el = monotonic_ns() - t0;
  asm volatile("" : : "r"(h));
  return static_cast<double>(el) / k;
}

// Padded so counters bumped on different cores do not share a cache line.
struct alignas(64) counter {
  std::atomic<std::uint64_t> v{0};
};

struct token {
  std::size_t id = 0;  // indexes the per-token counter
  std::uint64_t h = 0;
};

struct mixed_state {
  explicit mixed_state(std::size_t tokens) : counts(tokens) {}
  std::vector<counter> counts;
  chan<token> work = make_chan<token>();
  std::atomic<bool> stop{false};
  wait_group exited, live;

  std::uint64_t total() const {
    std::uint64_t s = 0;
    for (const auto& c : counts) s += c.v.load(std::memory_order_relaxed);
    return s;
  }
};

// Receive a token, spin on it, pass it back; the channel's FIFO rotates tokens through all n
// goroutines, so nearly all are parked at any moment.
task<void> mixed_worker(mixed_state& m) {
  while (auto t = co_await m.work.recv()) {
    t->h = spin(t->h);
    m.counts[t->id].v.fetch_add(1, std::memory_order_relaxed);
    if (m.stop.load(std::memory_order_relaxed)) {
      m.live.done();  // retire the token
      continue;
    }
    co_await m.work.send(*t);
  }
  m.exited.done();
}

struct run_stats {
  double ops_per_s = 0;
  std::uint64_t samples = 0;
  std::uintmax_t bytes = 0;
  double window_s = 0;  // as measured: a sleep may end late on a loaded machine
  sampler_stats sampler{};
};

task<run_stats> mixed_run(runtime& rt, std::int64_t n, std::size_t tokens,
                          std::chrono::milliseconds dur, const std::string* recording,
                          recording_encoding format, bool incremental, bool with_graph) {
  mixed_state m(tokens);
  m.exited.add(n);
  m.live.add(static_cast<std::int64_t>(tokens));
  for (std::int64_t i = 0; i < n; ++i) go(mixed_worker(m));
  for (std::size_t i = 0; i < tokens; ++i) co_await m.work.send(token{i, i});
  co_await sleep_for(mixed_warmup);

  std::unique_ptr<recording_session> session;
  if (recording) {
    recording_options opts;
    opts.format = format;
    opts.sampling.interval_ns = sample_interval_ns;
    opts.sampling.incremental = incremental;
    // _graph: the wait-for graph in every delta, however many goroutines are parked.
    if (with_graph) opts.sampling.delta_graph_limit = std::numeric_limits<std::size_t>::max();
    opts.workload = "bench sampling_overhead";
    session = start_recording(rt, *recording, opts);
  }
  const std::uint64_t c0 = m.total();
  const std::int64_t t0 = monotonic_ns();
  co_await sleep_for(dur);
  const std::uint64_t c1 = m.total();
  const std::int64_t t1 = monotonic_ns();
  run_stats st;
  st.window_s = static_cast<double>(t1 - t0) / 1e9;
  st.ops_per_s = static_cast<double>(c1 - c0) / st.window_s;
  if (session) {
    st.samples = session->sampler().samples_taken();
    st.sampler = session->sampler().stats();
    session->stop();
    st.bytes = std::filesystem::file_size(*recording);
  }
  m.stop.store(true);
  co_await m.live.wait();
  m.work.close();
  co_await m.exited.wait();
  co_return st;
}

}  // namespace

// value = 100 * (1 - sampled/base) throughput; sample_hz is the rate the sampler reached.
std::vector<result> sampling_overhead(const job& j) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("gprofid_bench_" + std::to_string(getpid()) + ".rec"))
                               .string();
  // sampling_overhead writes v1 JSON Lines, sampling_overhead_v2 format v2 (both incremental).
  // _full: the same with a full snapshot every sample (incremental snapshots off), to compare;
  // _graph: incremental with the wait-for graph in every delta (sampler_options::
  // delta_graph_limit unlimited).
  const recording_encoding format =
      j.op.starts_with("sampling_overhead_v2") ? recording_encoding::v2 : recording_encoding::jsonl;
  const bool incremental = j.op != "sampling_overhead_v2_full";
  const bool with_graph = j.op == "sampling_overhead_v2_graph";
  const double work = measure_spin();
  const auto dur = std::chrono::milliseconds(j.dur_ms);
  run_stats base, sampled;
  runtime rt({.workers = workers_for(j)});
  const std::size_t tokens = rt.workers();
  rt.run([&]() -> task<void> {
    base = co_await mixed_run(rt, j.n, tokens, dur, nullptr, format, incremental, with_graph);
    sampled = co_await mixed_run(rt, j.n, tokens, dur, &path, format, incremental, with_graph);
  }());
  std::filesystem::remove(path);
  const double secs = sampled.window_s;
  const double samples = static_cast<double>(sampled.samples);
  // Where a sample's time went (periodic_sampler::stats), per sample.
  const sampler_stats& ss = sampled.sampler;
  const double per = ss.samples > 0 ? static_cast<double>(ss.samples) : 1.0;
  auto us_per_sample = [&](std::int64_t ns) { return round3(static_cast<double>(ns) / per / 1e3); };
  json phases = {{"records_per_sample", round3(static_cast<double>(ss.records) / per)},
                 {"waits_per_sample", round3(static_cast<double>(ss.waits) / per)},
                 {"full_samples", ss.full},
                 {"missed_ticks", ss.missed_ticks},
                 {"sample_us", us_per_sample(ss.busy_ns)},
                 {"sample_cpu_us", us_per_sample(ss.cpu_ns)},
                 {"max_sample_us", round3(static_cast<double>(ss.max_sample_ns) / 1e3)},
                 {"snapshot_us", us_per_sample(ss.snapshot_ns)},
                 {"symbolise_us", us_per_sample(ss.symbolise_ns)},
                 {"apply_us", us_per_sample(ss.apply_ns)},
                 {"write_us", us_per_sample(ss.write_ns)},
                 {"sampler_cpu_share", round3(static_cast<double>(ss.cpu_ns) / 1e9 / secs)}};
  result r{.op = j.op,
           .n = j.n,
           .value = 100 * (1 - sampled.ops_per_s / base.ops_per_s),
           .unit = "percent",
           .extra = {{"base_ops_per_s", round3(base.ops_per_s)},
                     {"sampled_ops_per_s", round3(sampled.ops_per_s)},
                     {"tokens", tokens},
                     {"snapshots", sampled.samples},
                     {"sample_hz", round3(samples / secs)},
                     {"recording_bytes", sampled.bytes},
                     {"bytes_per_goroutine_sample",
                      samples > 0 ? round3(static_cast<double>(sampled.bytes) /
                                           (samples * static_cast<double>(j.n)))
                                  : 0.0},
                     {"work_ns", round3(work)},
                     {"window_s", secs}}};
  for (const auto& [k, v] : phases.items()) r.extra[k] = v;
  return {r};
}

}  // namespace gprofid::bench
