// sample_cost: what one incremental sample costs against the number of goroutines that changed
// since the previous one (issue 13), deterministically: 10k goroutines parked on one channel,
// one worker; before each sample, main wakes n of them (each receives a value and parks again
// at the same line, so its record changes only in its wait start and counters, as in
// sampling_overhead) and then takes the sample on its own thread. The periodic sampler's own
// pipeline (delta with the wait-for graph, symbolising, the kept state, v2 to a file) runs as
// recording does; its stats say where the time went. sample_cost_copied has the runtime copy
// every changed goroutine's frames (sampler_options::keep_frames off).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include "bench_ops.hpp"
#include "gprofid/channel.hpp"
#include "gprofid/recorder/periodic_sampler.hpp"
#include "gprofid/recorder/profile.hpp"
#include "gprofid/runtime.hpp"
#include "gprofid/wait_group.hpp"

namespace gprofid::bench {

namespace {

constexpr std::int64_t parked_goroutines = 10'000;

task<void> receive_all(chan<int>& c, std::atomic<std::int64_t>& received, wait_group& exited) {
  while (auto v = co_await c.recv()) received.fetch_add(*v, std::memory_order_relaxed);
  exited.done();
}

}  // namespace

// value = microseconds per sample (wall clock, the sampling thread alone on its worker); the
// breakdown per sample is in extra.
std::vector<result> sample_cost(const job& j) {
  const std::int64_t changes = std::clamp<std::int64_t>(j.n, 0, parked_goroutines);
  const int rounds = j.reps > 0 ? j.reps : 50;
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("gprofid_cost_" + std::to_string(getpid()) + ".rec"))
                               .string();
  sampler_stats first, all;
  std::uintmax_t bytes = 0, first_bytes = 0;
  runtime rt({.workers = 1});
  rt.run([&]() -> task<void> {
    auto c = make_chan<int>();
    std::atomic<std::int64_t> received{0};
    wait_group exited;
    exited.add(parked_goroutines);
    for (std::int64_t i = 0; i < parked_goroutines; ++i) go(receive_all(c, received, exited));
    co_await yield();  // every one parked on c
    {
      recording_writer out = recording_writer::create(path, recording_encoding::v2);
      out.write_header(header_for(rt, 10'000'000));
      // The defaults, as recording has them, but for the graph refresh: it comes 1 s of wall
      // time after the last full sample, which under callgrind falls within the run at a
      // point that depends on the machine's speed; no refresh keeps the counts comparable.
      sampler_options options;
      options.graph_interval_ns = 3'600'000'000'000;
      // sample_cost_copied: every changed goroutine's frames copied and symbolised, as before
      // kept frames (for comparison in one binary).
      options.keep_frames = j.op != "sample_cost_copied";
      periodic_sampler sampler(rt, out, options);
      sampler.sample_now();  // the first: full
      first = sampler.stats();
      first_bytes = std::filesystem::file_size(path);  // the writer writes each sample at once
      std::int64_t target = 0;
      for (int r = 0; r < rounds; ++r) {
        target += changes;
        for (std::int64_t k = 0; k < changes; ++k) co_await c.send(1);
        // One worker: once main runs again with all received, each has parked again.
        while (received.load(std::memory_order_relaxed) < target) co_await yield();
        sampler.sample_now();
      }
      all = sampler.stats();
      sampler.stop();
    }
    bytes = std::filesystem::file_size(path);
    c.close();
    co_await exited.wait();
  }());
  std::filesystem::remove(path);
  auto minus = [](std::int64_t a, std::int64_t b) { return static_cast<double>(a - b); };
  const double per = rounds;
  auto us = [&](std::int64_t a, std::int64_t b) { return round3(minus(a, b) / per / 1e3); };
  const double records = static_cast<double>(all.records - first.records) / per;
  const double sample_ns = minus(all.busy_ns, first.busy_ns) / per;
  // The deltas as stored, per record (the end block adds a few bytes); first_sample_bytes is
  // the preamble, header, tables and the first, full, sample.
  const double delta_bytes =
      static_cast<double>(bytes - first_bytes) / std::max(1.0, records * per);
  return {
      {.op = j.op,
       .n = changes,
       .value = round3(sample_ns / 1e3),
       .unit = "us/sample",
       .extra = {{"goroutines", parked_goroutines},
                 {"samples", rounds},
                 {"records_per_sample", round3(records)},
                 {"waits_per_sample", round3(static_cast<double>(all.waits - first.waits) / per)},
                 {"ns_per_record", records > 0 ? round3(sample_ns / records) : 0.0},
                 {"full_sample_us", round3(static_cast<double>(first.busy_ns) / 1e3)},
                 {"sample_cpu_us", us(all.cpu_ns, first.cpu_ns)},
                 {"snapshot_us", us(all.snapshot_ns, first.snapshot_ns)},
                 {"symbolise_us", us(all.symbolise_ns, first.symbolise_ns)},
                 {"apply_us", us(all.apply_ns, first.apply_ns)},
                 {"write_us", us(all.write_ns, first.write_ns)},
                 {"recording_bytes", bytes},
                 {"first_sample_bytes", first_bytes},
                 {"delta_bytes_per_record", round3(delta_bytes)}}}};
}

}  // namespace gprofid::bench
