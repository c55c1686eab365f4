// Many goroutines on two workers exchanging messages through channels and selects: every
// message must arrive exactly once, and the runtime must stay race-free (run under TSan too).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <memory>
#include <vector>

#include "gprofid/channel.hpp"
#include "gprofid/runtime.hpp"
#include "gprofid/select.hpp"

namespace gprofid {
namespace {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr long producers = 20'000;
constexpr int round_trips = 5'000;
#else
constexpr long producers = 100'000;
constexpr int round_trips = 200'000;
#endif
constexpr int consumers = 16;

struct tally {
  long count = 0;
  long sum = 0;
};

struct shared {
  chan<long> unbuffered = make_chan<long>();
  chan<long> buffered = make_chan<long>(8);
  chan<int> done = make_chan<int>();
  chan<tally> results = make_chan<tally>(consumers);
  std::atomic<long> received{0};
  std::vector<std::atomic<int>> seen = std::vector<std::atomic<int>>(producers);
};

// Each producer sends its own number once, by one of four routes.
task<void> producer(shared& s, long i) {
  const long route = i % 4;
  if (route == 0) {
    co_await s.unbuffered.send(i);
  } else if (route == 1) {
    co_await s.buffered.send(i);
  } else if (route == 2) {
    co_await select(send_case(s.unbuffered, i), send_case(s.buffered, i));
  } else if (co_await select(send_case(s.buffered, i), default_case()) == 1) {
    // Non-blocking first; spinning on it instead would make the test quadratic.
    co_await s.unbuffered.send(i);
  }
}

task<void> consumer(shared& s) {
  tally t;
  for (;;) {
    std::optional<long> v;
    int k =
        co_await select(recv_case(s.unbuffered, v), recv_case(s.buffered, v), recv_case(s.done));
    if (k == 2) break;
    ++t.count;
    t.sum += *v;
    s.seen[*v].fetch_add(1, std::memory_order_relaxed);
    // The last message closes `done`, which wakes every consumer still parked in its select.
    if (s.received.fetch_add(1, std::memory_order_relaxed) + 1 == producers) s.done.close();
  }
  co_await s.results.send(t);
}

TEST_CASE("channel stress: many goroutines, selects and two workers; exactly-once delivery") {
  auto s = std::make_unique<shared>();
  tally total;
  {
    runtime rt({.workers = 2});
    rt.run([](shared& s, tally& total) -> task<void> {
      for (int c = 0; c < consumers; ++c) go(consumer(s));
      for (long i = 0; i < producers; ++i) go(producer(s, i));
      for (int c = 0; c < consumers; ++c) {
        tally t = *co_await s.results.recv();
        total.count += t.count;
        total.sum += t.sum;
      }
    }(*s, total));
  }
  CHECK(total.count == producers);
  CHECK(total.sum == producers * (producers - 1) / 2);
  long wrong = 0;
  for (auto& n : s->seen) wrong += n.load() != 1;
  CHECK(wrong == 0);
}

// CPU time of the calling thread (with one worker, of the whole exchange): the machine may be
// shared, so wall time partly measures the neighbours.
std::int64_t thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// Ping-pong over two unbuffered channels: each round trip is two handoffs and two parks.
task<void> ponger(chan<int> ping, chan<int> pong) {
  while (auto v = co_await ping.recv()) co_await pong.send(*v + 1);
}

TEST_CASE("channel stress: ping-pong round trips (1 worker), timed") {
  runtime rt({.workers = 1});
  double wall_per_trip = 0, cpu_per_trip = 0;
  rt.run([](double& wall_per_trip, double& cpu_per_trip) -> task<void> {
    auto ping = make_chan<int>();
    auto pong = make_chan<int>();
    go(ponger(ping, pong));
    const auto start = std::chrono::steady_clock::now();
    const std::int64_t cpu_start = thread_cpu_ns();
    int v = 0;
    for (int i = 0; i < round_trips; ++i) {
      co_await ping.send(v);
      v = *co_await pong.recv();
    }
    const std::int64_t cpu = thread_cpu_ns() - cpu_start;
    const auto elapsed = std::chrono::steady_clock::now() - start;
    ping.close();
    CHECK(v == round_trips);
    wall_per_trip = std::chrono::duration<double, std::nano>(elapsed).count() / round_trips;
    cpu_per_trip = static_cast<double>(cpu) / round_trips;
  }(wall_per_trip, cpu_per_trip));
  MESSAGE("unbuffered ping-pong per round trip: " << cpu_per_trip << " ns CPU, " << wall_per_trip
                                                  << " ns wall");
}

}  // namespace
}  // namespace gprofid
