// worker-pool: a producer feeds jobs of varied length through a buffered channel to N workers;
// a collector receives the results. Shows chan send/receive waits and workers coming and going
// between running and sleeping.
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>

#include "gprofid/channel.hpp"
#include "gprofid/clock.hpp"
#include "gprofid/event.hpp"
#include "gprofid/runtime.hpp"
#include "gprofid/select.hpp"
#include "gprofid/sleep.hpp"
#include "gprofid/this_goroutine.hpp"
#include "gprofid/wait_group.hpp"
#include "workloads/workload.hpp"

namespace gprofid::workloads {
namespace {

constexpr workload_option options[] = {
    {"workers", option_kind::count, "4", "worker goroutines"},
    {"jobs", option_kind::count, "0", "jobs to run before finishing (0: until stopped)"},
    {"job_time", option_kind::duration, "20ms", "median job length; jobs vary from 1/5 to 5x"},
    {"queue", option_kind::count, "8", "capacity of the job channel"},
    {"hog_time", option_kind::duration, "200ms",
     "how long the checksum goroutine computes without yielding (0: no checksums)"},
    {"hog_every", option_kind::duration, "1s", "pause between two checksums"},
};

struct job {
  std::uint64_t id = 0;
  std::chrono::nanoseconds cost{};
};

struct result {
  std::uint64_t job_id = 0;
  std::int64_t took_ns = 0;
};

// Log-uniform between cost/5 and cost*5: mostly short jobs, a few long ones.
std::chrono::nanoseconds vary(std::mt19937_64& rng, std::chrono::nanoseconds median) {
  std::uniform_real_distribution<double> exponent(-1.0, 1.0);
  return std::chrono::nanoseconds(
      static_cast<std::int64_t>(median.count() * std::pow(5.0, exponent(rng))));
}

task<void> produce(chan<job> jobs, chan<bool> stop, std::int64_t count,
                   std::chrono::nanoseconds job_time) {
  std::mt19937_64 rng(42);
  for (std::uint64_t id = 1; count == 0 || id <= static_cast<std::uint64_t>(count); ++id) {
    job next{id, vary(rng, job_time)};
    const int fired = co_await select(send_case(jobs, next), recv_case(stop));
    if (fired == 1) break;
  }
  jobs.close();  // workers drain what is queued, then exit
}

// A job is a little CPU work then a wait (for I/O, say), in its own frame so stacks show it.
task<void> process(job j) {
  spin_for(j.cost / 20);
  co_await sleep_for(j.cost);
}

// Shared by reference count: a wait_group or event may still be inside done()/set() when the
// goroutine it woke has already returned.
struct pool_state {
  wait_group running;
  event collected;
  std::uint64_t completed = 0;  // written by the collector only, read after `collected`
  std::int64_t busy_ns = 0;
};

task<void> work(std::int64_t index, chan<job> jobs, chan<result> results,
                std::shared_ptr<pool_state> state) {
  this_goroutine::set_label("worker", std::to_string(index));
  while (auto j = co_await jobs.recv()) {
    const std::int64_t start = monotonic_ns();
    co_await process(*j);
    result r{j->id, monotonic_ns() - start};
    co_await results.send(r);
  }
  state->running.done();
}

// The bug a profiler should name: a checksum computed in one go on a worker thread, never
// yielding, so that this goroutine holds its worker for hog_time at a stretch (never yielded).
task<void> checksum(chan<bool> stop, std::chrono::nanoseconds hog, std::chrono::nanoseconds every) {
  this_goroutine::set_label("job", "checksum");
  while (!stop.closed()) {
    spin_for(hog);
    co_await sleep_for(every);
  }
}

task<void> collect(chan<result> results, std::shared_ptr<pool_state> state) {
  while (auto r = co_await results.recv()) {
    ++state->completed;
    state->busy_ns += r->took_ns;
  }
  state->collected.set();
}

task<void> worker_pool(workload_context ctx) {
  const std::int64_t workers = std::max<std::int64_t>(1, ctx.args.count("workers"));
  auto jobs = make_chan<job>(static_cast<std::size_t>(ctx.args.count("queue")));
  auto results = make_chan<result>(static_cast<std::size_t>(workers));
  auto state = std::make_shared<pool_state>();
  state->running.add(workers);
  for (std::int64_t i = 0; i < workers; ++i) go(work(i, jobs, results, state));
  go(collect(results, state));
  auto stop = stop_channel(ctx.stop);
  go(produce(jobs, stop, ctx.args.count("jobs"), ctx.args.duration("job_time")));
  if (ctx.args.duration("hog_time").count() > 0) {
    go(checksum(stop, ctx.args.duration("hog_time"), ctx.args.duration("hog_every")));
  }
  co_await state->running.wait();
  results.close();
  co_await state->collected.wait();
}

}  // namespace

const workload& worker_pool_workload() noexcept {
  static const workload w{"worker-pool",
                          "a producer feeds jobs of varied length through a channel to N "
                          "workers; a collector gathers the results",
                          options, worker_pool};
  return w;
}

}  // namespace gprofid::workloads
