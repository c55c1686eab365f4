// spawn_park and mem_parked: the cost of creating goroutines that then park, in time and RSS.
#include "bench_ops.hpp"
#include "gprofid/runtime.hpp"

namespace gprofid::bench {

// ns per goroutine from the first go() until all n are about to park on the channel. The value
// is a cold start (fresh process); warm_ns_per_g repeats the run in the same runtime, where the
// allocator reuses the exited goroutines' memory.
std::vector<result> spawn_park(const job& j) {
  std::int64_t cold = 0, warm = 0;
  runtime rt({.workers = workers_for(j)});
  rt.run([&]() -> task<void> {
    parked_set p;
    cold = co_await park_n(p, j.n, 1);
    co_await release(p);
    warm = co_await park_n(p, j.n, 1);
    co_await release(p);
  }());
  const double n = static_cast<double>(j.n);
  return {{.op = j.op,
           .n = j.n,
           .value = static_cast<double>(cold) / n,
           .unit = "ns/goroutine",
           .extra = {{"warm_ns_per_g", round3(static_cast<double>(warm) / n)},
                     {"workers", rt.workers()}}}};
}

// RSS growth per parked goroutine: control block, registry link, root and park_at coroutine
// frames and the channel waiter node (which lives in the frame), plus allocator slack.
std::vector<result> mem_parked(const job& j) {
  std::int64_t rss0 = 0, rss1 = 0;
  runtime rt({.workers = workers_for(j)});
  rt.run([&]() -> task<void> {
    trim_heap();
    rss0 = rss_bytes();
    parked_set p;
    co_await park_n(p, j.n, 1);
    rss1 = rss_bytes();
    co_await release(p);
  }());
  return {{.op = j.op,
           .n = j.n,
           .value = static_cast<double>(rss1 - rss0) / static_cast<double>(j.n),
           .unit = "bytes/goroutine",
           .extra = {{"rss_before_kib", rss0 >> 10}, {"rss_after_kib", rss1 >> 10}}}};
}

}  // namespace gprofid::bench
