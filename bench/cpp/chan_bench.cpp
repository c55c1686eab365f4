// pingpong_p1/p2 and worker_pool: channel hand-offs between goroutines (bench/go/chan.go).
#include <stdexcept>
#include <string>

#include "bench_ops.hpp"
#include "gprofid/clock.hpp"
#include "gprofid/runtime.hpp"

namespace gprofid::bench {

namespace {

task<void> echo(chan<int> ping, chan<int> pong) {
  while (auto v = co_await ping.recv()) co_await pong.send(*v);
}

task<void> rounds(const chan<int>& ping, const chan<int>& pong, std::int64_t k) {
  for (std::int64_t i = 0; i < k; ++i) {
    co_await ping.send(static_cast<int>(i));
    co_await pong.recv();
  }
}

constexpr int pool_workers = 1000;
constexpr std::size_t pool_chan_size = 1024;

// The per-item "trivial work" of bench/go/chan.go: a summing loop the compiler cannot fold
// (the asm barrier keeps it a loop, as Go's compiler leaves it).
std::int64_t pool_work(std::int64_t x) {
  std::int64_t s = 0;
  for (std::int64_t i = 0; i < 16; ++i) {
    s += x + i;
    asm volatile("" : "+r"(s));
  }
  return s;
}

task<void> pool_worker(chan<std::int64_t> items, chan<std::int64_t> results, wait_group& wg) {
  while (auto x = co_await items.recv()) co_await results.send(pool_work(*x));
  wg.done();
}

task<void> close_when_done(wait_group& wg, chan<std::int64_t> results) {
  co_await wg.wait();
  results.close();
}

task<void> collect(chan<std::int64_t> results, chan<std::int64_t> total) {
  std::int64_t sum = 0;
  while (auto r = co_await results.recv()) sum += *r;
  co_await total.send(sum);
}

}  // namespace

// ns per round trip (ping then pong over two unbuffered channels) with 1 or 2 workers.
std::vector<result> pingpong(const job& j) {
  std::int64_t elapsed = 0;
  runtime rt({.workers = workers_for(j)});
  rt.run([&]() -> task<void> {
    auto ping = make_chan<int>(), pong = make_chan<int>();
    go(echo(ping, pong));
    co_await rounds(ping, pong, j.n / 10);  // warm up
    const std::int64_t t0 = monotonic_ns();
    co_await rounds(ping, pong, j.n);
    elapsed = monotonic_ns() - t0;
    ping.close();
  }());
  return {{.op = j.op,
           .n = j.n,
           .value = static_cast<double>(elapsed) / static_cast<double>(j.n),
           .unit = "ns/roundtrip",
           .extra = {{"procs", rt.workers()}}}};
}

// items/s: main feeds 0..n-1 into a channel of capacity 1024 read by 1000 workers, which send
// pool_work(x) to a results channel (capacity 1024) drained by one collector.
std::vector<result> worker_pool(const job& j) {
  std::int64_t elapsed = 0, sum = 0;
  runtime rt({.workers = workers_for(j)});
  rt.run([&]() -> task<void> {
    auto items = make_chan<std::int64_t>(pool_chan_size);
    auto results = make_chan<std::int64_t>(pool_chan_size);
    auto total = make_chan<std::int64_t>();
    wait_group wg;
    wg.add(pool_workers);
    for (int w = 0; w < pool_workers; ++w) go(pool_worker(items, results, wg));
    go(close_when_done(wg, results));
    go(collect(results, total));
    const std::int64_t t0 = monotonic_ns();
    for (std::int64_t i = 0; i < j.n; ++i) co_await items.send(i);
    items.close();
    sum = *co_await total.recv();
    elapsed = monotonic_ns() - t0;
  }());
  if (const std::int64_t want = 16 * (j.n * (j.n - 1) / 2) + 120 * j.n; sum != want) {
    throw std::runtime_error("worker_pool: sum " + std::to_string(sum) + ", want " +
                             std::to_string(want));
  }
  return {{.op = j.op,
           .n = j.n,
           .value = static_cast<double>(j.n) / (static_cast<double>(elapsed) / 1e9),
           .unit = "items/s",
           .extra = {
               {"workers", pool_workers}, {"chan_cap", pool_chan_size}, {"procs", rt.workers()}}}};
}

}  // namespace gprofid::bench
