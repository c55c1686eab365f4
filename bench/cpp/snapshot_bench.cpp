// snapshot_raw / snapshot_profile: one whole-runtime snapshot with n goroutines parked at a
// depth, and snapshot_pause: the worst round trip a ping-pong pair sees while snapshots run
// back to back (bench/go/profile.go).
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "bench_ops.hpp"
#include "gprofid/clock.hpp"
#include "gprofid/recorder/profile.hpp"
#include "gprofid/runtime.hpp"

namespace gprofid::bench {

namespace {

double usec(std::int64_t ns) {
  return round3(static_cast<double>(ns) / 1e3);
}

// CPU time of the calling thread: on a shared machine it shows the work a snapshot does
// without the time the thread spent preempted.
std::int64_t thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

// The most common stack depth among the goroutines of a snapshot (the parked ones).
std::size_t parked_frames(const snapshot& s) {
  std::vector<std::size_t> count(s.stacks.size());
  for (const auto& g : s.goroutines) ++count[g.stack];
  std::size_t best = 0;
  for (std::size_t i = 0; i < count.size(); ++i) {
    if (count[i] > count[best]) best = i;
  }
  return s.stacks.empty() ? 0 : s.stacks[best].size();
}

}  // namespace

// snapshot_raw: rt.take_snapshot(), the runtime's records (source locations, code addresses).
// snapshot_profile: goroutine_profile_with_id(rt, sym), i.e. the snapshot symbolised into a
// sample sorted by id, with one symbolizer kept across calls as a recording keeps it.
// Median of 3 calls, after one warm-up call unless a call takes over 1 s.
std::vector<result> snapshot_cost(const job& j) {
  const bool profile = j.op == "snapshot_profile";
  std::vector<double> times, cpu_times;
  std::size_t frames = 0, goroutines = 0;
  std::int64_t max_hold = 0;
  runtime rt({.workers = workers_for(j)});
  rt.run([&]() -> task<void> {
    parked_set p;
    co_await park_n(p, j.n, j.depth);
    symbolizer sym;
    std::int64_t cpu = 0;
    auto take = [&]() -> std::int64_t {
      const std::int64_t c0 = thread_cpu_ns();
      const std::int64_t t0 = monotonic_ns();
      if (profile) {
        sample s = goroutine_profile_with_id(rt, sym);
        const std::int64_t d = monotonic_ns() - t0;
        cpu = thread_cpu_ns() - c0;
        goroutines = s.goroutines.size();
        max_hold = std::max(max_hold, s.pause_ns);
        return d;
      }
      snapshot s = rt.take_snapshot();
      const std::int64_t d = monotonic_ns() - t0;
      cpu = thread_cpu_ns() - c0;
      goroutines = s.goroutines.size();
      frames = parked_frames(s);
      max_hold = std::max(max_hold, s.max_hold_ns);
      return d;
    };
    const std::int64_t first = take();
    if (first >= 1'000'000'000) {
      times.push_back(static_cast<double>(first));
      cpu_times.push_back(static_cast<double>(cpu));
    }
    while (times.size() < 3) {
      times.push_back(static_cast<double>(take()));
      cpu_times.push_back(static_cast<double>(cpu));
    }
    if (profile) frames = parked_frames(rt.take_snapshot());
    co_await release(p);
  }());
  const double med = median(times);
  return {{.op = j.op,
           .n = j.n,
           .value = med / static_cast<double>(j.n),
           .unit = "ns/goroutine",
           .extra = {{"depth", j.depth},
                     {"median_ms", round3(med / 1e6)},
                     {"min_ms", round3(*std::min_element(times.begin(), times.end()) / 1e6)},
                     {"cpu_ns_per_g", round3(median(cpu_times) / static_cast<double>(j.n))},
                     {"stack_frames", frames},
                     {"goroutines", goroutines},
                     {"max_hold_us", usec(max_hold)}}}};
}

namespace {

task<void> echo(chan<int> ping, chan<int> pong) {
  while (auto v = co_await ping.recv()) co_await pong.send(*v);
}

struct snap_stats {
  int count = 0;
  std::int64_t total_ns = 0;
  std::int64_t max_ns = 0;
  std::int64_t max_hold_ns = 0;
};

// Involuntary context switches so far of every thread of this process (or, with one worker,
// of the calling one: the worker the pair runs on): a window in which this does not move had
// none of those threads preempted by the OS, so its worst round trip is ours.
long involuntary_switches(bool this_thread) {
  rusage ru{};
  getrusage(this_thread ? RUSAGE_THREAD : RUSAGE_SELF, &ru);
  return ru.ru_nivcsw;
}

// One snapshot, timed into `st`.
void take_timed(runtime& rt, snap_stats& st) {
  const std::int64_t t0 = monotonic_ns();
  snapshot s = rt.take_snapshot();
  const std::int64_t d = monotonic_ns() - t0;
  ++st.count;
  st.total_ns += d;
  st.max_ns = std::max(st.max_ns, d);
  st.max_hold_ns = std::max(st.max_hold_ns, s.max_hold_ns);
}

// Snapshots back to back until stopped, yielding in between (Go preempts its profiler
// goroutine; ours must give the worker up explicitly).
task<void> snapshot_loop(runtime& rt, std::atomic<bool>& stop, std::atomic<bool>& done,
                         snap_stats& st) {
  while (!stop.load()) {
    take_timed(rt, st);
    co_await yield();
  }
  done.store(true);
}

// The same loop on a thread of its own, as the periodic sampler takes its snapshots: no worker
// is given up, so what the pair sees is the walk's effect on it, not a shared worker's.
void snapshot_thread_loop(runtime& rt, std::atomic<bool>& stop, std::atomic<bool>& done,
                          snap_stats& st) {
  while (!stop.load()) take_timed(rt, st);
  done.store(true);
}

// Ping-pongs for dur_ns recording each round trip; with snapshots, the window extends until
// the snapshotter has finished, so a snapshot in flight at the deadline is seen whole.
task<void> time_round_trips(runtime& rt, const chan<int>& ping, const chan<int>& pong,
                            std::int64_t dur_ns, bool snapshots, bool from_thread, histogram& h,
                            snap_stats& st) {
  std::atomic<bool> stop{false}, done{!snapshots};
  std::jthread sampler;
  if (snapshots && from_thread) {
    sampler = std::jthread([&] { snapshot_thread_loop(rt, stop, done, st); });
  } else if (snapshots) {
    go(snapshot_loop(rt, stop, done, st));
  }
  const std::int64_t deadline = monotonic_ns() + dur_ns;
  for (;;) {
    const std::int64_t t0 = monotonic_ns();
    co_await ping.send(0);
    co_await pong.recv();
    const std::int64_t t1 = monotonic_ns();
    h.record(t1 - t0);
    if (t1 > deadline) {
      stop.store(true);
      if (done.load()) co_return;
    }
  }
}

// Every window of one kind (with or without snapshots): all of them pooled, and the quiet ones
// (no involuntary context switch in the process) pooled apart.
struct windows {
  std::unique_ptr<histogram> all = std::make_unique<histogram>();
  std::unique_ptr<histogram> quiet = std::make_unique<histogram>();
  std::vector<double> maxima;  // each window's worst round trip
  int quiet_count = 0;

  void add(const histogram& h, bool was_quiet) {
    all->merge(h);
    if (was_quiet) {
      quiet->merge(h);
      ++quiet_count;
    }
    maxima.push_back(static_cast<double>(h.max()));
  }
  void describe(json& extra, const std::string& prefix) const {
    extra[prefix + "p99_us"] = usec(all->quantile(0.99));
    extra[prefix + "p999_us"] = usec(all->quantile(0.999));
    extra[prefix + "max_us"] = usec(all->max());
    extra[prefix + "median_window_max_us"] = usec(static_cast<std::int64_t>(median(maxima)));
    extra[prefix + "quiet_windows"] = quiet_count;
    if (quiet_count > 0) {
      extra[prefix + "quiet_p99_us"] = usec(quiet->quantile(0.99));
      extra[prefix + "quiet_p999_us"] = usec(quiet->quantile(0.999));
      extra[prefix + "quiet_max_us"] = usec(quiet->max());
    }
    extra[prefix + "roundtrips"] = all->total();
  }
};

}  // namespace

// The round trips of a ping-pong pair (2 workers) while another goroutine takes snapshots back
// to back (snapshot_pause_thread: 1 worker, snapshots from a thread of their own, the way the
// periodic sampler takes them), with n goroutines parked at depth 8, against equal windows without
// snapshots. The windows alternate (reps of each, dur_ms long) so that both kinds see the same
// machine; the pooled p99, p99.9 and max of each kind are reported over all windows and over the
// quiet ones only (no thread of the process, or in snapshot_pause_thread the worker, preempted
// by the OS during the window), which on a
// shared machine are the only ones that can show a pause of 100 us. value: the max over all
// snapshot windows (what Go's row reports); quiet_max_us: the max over the quiet ones.
std::vector<result> snapshot_pause(const job& j) {
  windows base, snap;
  snap_stats st, unused;
  const int reps = std::max(1, j.reps);
  const bool from_thread = j.op == "snapshot_pause_thread";
  runtime rt({.workers = workers_for(j)});
  rt.run([&]() -> task<void> {
    parked_set p;
    co_await park_n(p, j.n, j.depth);
    auto ping = make_chan<int>(), pong = make_chan<int>();
    go(echo(ping, pong));
    for (int i = 0; i < 10'000; ++i) {  // warm up
      co_await ping.send(0);
      co_await pong.recv();
    }
    const std::int64_t dur = j.dur_ms * 1'000'000;
    auto h = std::make_unique<histogram>();
    for (int r = 0; r < reps; ++r) {
      for (const bool snapshots : {false, true}) {
        *h = histogram{};
        const long before = involuntary_switches(from_thread);
        co_await time_round_trips(rt, ping, pong, dur, snapshots, from_thread, *h,
                                  snapshots ? st : unused);
        const bool quiet = involuntary_switches(from_thread) == before;
        (snapshots ? snap : base).add(*h, quiet);
      }
    }
    ping.close();
    co_await release(p);
  }());
  json extra = {{"depth", j.depth}};
  snap.describe(extra, "");
  base.describe(extra, "baseline_");
  extra["snapshots"] = st.count;
  extra["windows"] = reps;
  extra["window_s"] = static_cast<double>(j.dur_ms) / 1e3;
  extra["procs"] = rt.workers();
  if (st.count > 0) {
    extra["snapshot_mean_us"] = usec(st.total_ns / st.count);
    extra["snapshot_max_us"] = usec(st.max_ns);
    extra["max_hold_us"] = usec(st.max_hold_ns);
  }
  return {{.op = j.op, .n = j.n, .value = usec(snap.all->max()), .unit = "us", .extra = extra}};
}

}  // namespace gprofid::bench
