// diff: the diff engine (sampler/diff.hpp) joining two samples of n goroutines by id, in
// goroutines per second on one thread and peak RSS; and the recording size per goroutine.
#include <fcntl.h>
#include <unistd.h>

#include <stdexcept>

#include "bench_ops.hpp"
#include "gprofid/analysis/diff.hpp"
#include "gprofid/clock.hpp"
#include "gprofid/recorder/profile.hpp"
#include "gprofid/recording/recording_writer.hpp"
#include "gprofid/runtime.hpp"

namespace gprofid::bench {

namespace {

// Between the two samples 10% of the goroutines exit, 10% move to another wait (a stack
// change), and 10% new ones are spawned; the other 80% stay parked where they were.
struct population {
  chan<int> block = make_chan<int>();  // never sent on
  chan<int> quit = make_chan<int>();   // closed between samples: its waiters exit
  chan<int> step = make_chan<int>();   // closed between samples: its waiters move
  wait_group started, moved, quitted;
};

task<void> stay_inner(population& p) {
  p.started.done();
  co_await p.block.recv();
}
task<void> stay(population& p) {
  co_await stay_inner(p);
}

task<void> quitter(population& p) {
  p.started.done();
  co_await p.quit.recv();
  p.quitted.done();
}

task<void> mover(population& p) {
  p.started.done();
  co_await p.step.recv();
  p.moved.done();
  co_await p.block.recv();
}

task<void> spawn_group(population& p, std::int64_t count, task<void> (*fn)(population&)) {
  p.started.add(count);
  for (std::int64_t i = 0; i < count; ++i) go(fn(p));
  co_await p.started.wait();
}

struct devnull {
  devnull() : fd(::open("/dev/null", O_WRONLY | O_CLOEXEC)) {
    if (fd < 0) throw std::runtime_error("open /dev/null failed");
  }
  ~devnull() { ::close(fd); }
  devnull(const devnull&) = delete;
  devnull& operator=(const devnull&) = delete;
  int fd;
};

}  // namespace

std::vector<result> diff(const job& j) {
  sample before, after;
  symbol_tables tables;
  std::uint64_t recording_bytes = 0;
  {
    runtime rt({.workers = workers_for(j)});
    devnull sink;
    recording_writer out(sink.fd, "/dev/null");
    rt.run([&]() -> task<void> {
      population p;
      const std::int64_t tenth = j.n / 10;
      co_await spawn_group(p, j.n - 2 * tenth, stay);
      co_await spawn_group(p, tenth, quitter);
      co_await spawn_group(p, tenth, mover);
      symbolizer sym;
      out.write_header(header_for(rt, 0));
      before = goroutine_profile_with_id(rt, sym);
      out.write_sample(before, sym.tables());

      p.quitted.add(tenth);
      p.moved.add(tenth);
      p.quit.close();
      p.step.close();
      co_await p.quitted.wait();
      co_await p.moved.wait();
      co_await spawn_group(p, tenth, stay);
      after = goroutine_profile_with_id(rt, sym);
      after.seq = 1;
      out.write_sample(after, sym.tables());
      out.write_end({.samples = 2, .exit_status = {}, .signal = {}});
      tables = sym.tables();
    }());
    recording_bytes = out.bytes_written();
  }  // the runtime and its goroutines are gone: only the two samples remain

  trim_heap();
  const std::int64_t rss_samples = rss_bytes();
  const bool peak_ok = reset_peak_rss();
  std::vector<double> times;
  pair_counts counts;
  for (int i = 0; i < 3; ++i) {
    const std::int64_t t0 = monotonic_ns();
    pair_diff d = diff_samples(before, after, tables);
    times.push_back(static_cast<double>(monotonic_ns() - t0));
    counts = d.counts;
  }
  const std::int64_t peak = peak_rss_bytes();
  const double secs = median(times) / 1e9;
  const double per_sample = static_cast<double>(before.goroutines.size());
  const double sample_bytes =
      static_cast<double>(before.goroutines.capacity() * sizeof(goroutine_sample));
  const double working = static_cast<double>(std::max<std::int64_t>(0, peak - rss_samples));

  json count_json = {{"before", counts.before},
                     {"after", counts.after},
                     {"created", counts.created},
                     {"exited", counts.exited},
                     {"state_changed", counts.state_changed},
                     {"stack_changed", counts.stack_changed}};
  return {
      {.op = "diff",
       .n = j.n,
       .value = per_sample / secs,
       .unit = "goroutines/s",
       .extra = {{"median_ms", round3(secs * 1e3)},
                 {"records_per_s", round3((per_sample + after.goroutines.size()) / secs)},
                 {"counts", count_json}}},
      {.op = "diff_peak_rss",
       .n = j.n,
       .value = peak_ok ? (2 * sample_bytes + working) / sample_bytes : 0,
       .unit = "x sample",
       .extra = {{"sample_bytes", sample_bytes},
                 {"diff_working_bytes", working},
                 {"rss_with_samples_kib", rss_samples >> 10},
                 {"peak_rss_kib", peak >> 10},
                 {"peak_reset", peak_ok}}},
      {.op = "recording_size",
       .n = j.n,
       .value = static_cast<double>(recording_bytes) / (per_sample + after.goroutines.size()),
       .unit = "bytes/goroutine/sample",
       .extra = {{"recording_bytes", recording_bytes}, {"labels", false}, {"stack_frames", 2}}},
  };
}

}  // namespace gprofid::bench
