// snapshot_raw / snapshot_profile: one whole-runtime snapshot with n goroutines parked at a
// depth, and snapshot_pause: the worst round trip a ping-pong pair sees while snapshots run
// back to back (bench/go/profile.go).
#include <time.h>

#include <algorithm>
#include <atomic>
#include <functional>

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

// Snapshots back to back until stopped, yielding in between (Go preempts its profiler
// goroutine; ours must give the worker up explicitly).
task<void> snapshot_loop(runtime& rt, std::atomic<bool>& stop, std::atomic<bool>& done,
                         snap_stats& st) {
  while (!stop.load()) {
    const std::int64_t t0 = monotonic_ns();
    snapshot s = rt.take_snapshot();
    const std::int64_t d = monotonic_ns() - t0;
    ++st.count;
    st.total_ns += d;
    st.max_ns = std::max(st.max_ns, d);
    st.max_hold_ns = std::max(st.max_hold_ns, s.max_hold_ns);
    co_await yield();
  }
  done.store(true);
}

// Ping-pongs for dur_ns recording each round trip; with snapshots, the window extends until
// the snapshot goroutine has finished, so a snapshot in flight at the deadline is seen whole.
task<void> time_round_trips(runtime& rt, const chan<int>& ping, const chan<int>& pong,
                            std::int64_t dur_ns, bool snapshots, histogram& h, snap_stats& st) {
  std::atomic<bool> stop{false}, done{!snapshots};
  if (snapshots) go(snapshot_loop(rt, stop, done, st));
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

}  // namespace

// The worst round trip (us) of a ping-pong pair while another goroutine takes snapshots back
// to back, with n goroutines parked at depth 8 and 2 workers; baseline_max_us is the worst in
// an equal window without snapshots.
std::vector<result> snapshot_pause(const job& j) {
  auto base = std::make_unique<histogram>();
  auto snap = std::make_unique<histogram>();
  snap_stats st, unused;
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
    co_await time_round_trips(rt, ping, pong, dur, false, *base, unused);
    co_await time_round_trips(rt, ping, pong, dur, true, *snap, st);
    ping.close();
    co_await release(p);
  }());
  json extra = {{"depth", j.depth},
                {"baseline_max_us", usec(base->max())},
                {"p99_us", usec(snap->quantile(0.99))},
                {"baseline_p99_us", usec(base->quantile(0.99))},
                {"p999_us", usec(snap->quantile(0.999))},
                {"baseline_p999_us", usec(base->quantile(0.999))},
                {"snapshots", st.count},
                {"roundtrips", snap->total()},
                {"baseline_roundtrips", base->total()},
                {"window_s", static_cast<double>(j.dur_ms) / 1e3},
                {"procs", rt.workers()}};
  if (st.count > 0) {
    extra["snapshot_mean_us"] = usec(st.total_ns / st.count);
    extra["snapshot_max_us"] = usec(st.max_ns);
    extra["max_hold_us"] = usec(st.max_hold_ns);
  }
  return {{.op = j.op, .n = j.n, .value = usec(snap->max()), .unit = "us", .extra = extra}};
}

}  // namespace gprofid::bench
