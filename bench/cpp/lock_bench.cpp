// lock_oversubscribed: the runtime's internal lock (gprofid::spinlock) with more runnable threads
// than cores, and lock_holder_off_cpu: the CPU its waiters burn while the holder is off the CPU;
// each beside the lock it replaced (spin 128 pauses, then sched_yield in a loop), which is
// kept here as the reference. No Go peer: Go's runtime lock is not reachable from Go code.
#include <sched.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "bench_ops.hpp"
#include "gprofid/clock.hpp"
#include "gprofid/detail/spinlock.hpp"

namespace gprofid::bench {

namespace {

// The lock before issue 14's item 4: a holder preempted by the OS is waited for by sched_yield,
// which on an oversubscribed machine keeps every waiter runnable.
class yielding_lock {
 public:
  void lock() noexcept {
    while (locked_.exchange(true, std::memory_order_acquire)) {
      for (int spins = 0; locked_.load(std::memory_order_relaxed); ++spins) {
        if (spins < 128) {
          cpu_relax();
        } else {
          sched_yield();
        }
      }
    }
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

std::int64_t process_cpu_ns() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto ns = [](const timeval& t) { return t.tv_sec * 1'000'000'000LL + t.tv_usec * 1'000LL; };
  return ns(ru.ru_utime) + ns(ru.ru_stime);
}

struct lock_run {
  double ns_per_op = 0;
  double cpu_ns_per_op = 0;
  long voluntary_switches = 0;
};

// `threads` threads each take the lock ops/threads times around a critical section of a few
// dozen instructions (a shared counter and a 64-byte shared array), with a little work outside.
template <class Lock>
lock_run contend(std::int64_t ops, int threads) {
  Lock lock;
  std::uint64_t counter = 0;
  std::uint64_t shared[8] = {};
  std::atomic<bool> go_now{false};
  std::vector<std::thread> pool;
  const std::int64_t per_thread = ops / threads;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      while (!go_now.load(std::memory_order_acquire)) std::this_thread::yield();
      std::uint64_t local = static_cast<std::uint64_t>(t) + 1;
      for (std::int64_t i = 0; i < per_thread; ++i) {
        lock.lock();
        ++counter;
        for (auto& v : shared) v += local;
        lock.unlock();
        for (int k = 0; k < 32; ++k) local = local * 6364136223846793005ULL + 1;
      }
    });
  }
  rusage r0{};
  getrusage(RUSAGE_SELF, &r0);
  const std::int64_t cpu0 = process_cpu_ns();
  const std::int64_t t0 = monotonic_ns();
  go_now.store(true, std::memory_order_release);
  for (auto& th : pool) th.join();
  const std::int64_t wall = monotonic_ns() - t0;
  const std::int64_t cpu = process_cpu_ns() - cpu0;
  rusage r1{};
  getrusage(RUSAGE_SELF, &r1);
  const double done = static_cast<double>(per_thread * threads);
  if (counter != static_cast<std::uint64_t>(per_thread * threads)) return {};
  return {static_cast<double>(wall) / done, static_cast<double>(cpu) / done,
          r1.ru_nvcsw - r0.ru_nvcsw};
}

// A holder that keeps the lock while off the CPU (sleeping 2 ms, as a holder the OS preempted
// would), `waiters` threads taking it every 50 us meanwhile: the CPU they burn waiting, in
// microseconds per millisecond of holding (1000 = a whole core).
template <class Lock>
double cpu_while_held(int waiters, int holds) {
  using namespace std::chrono_literals;
  Lock lock;
  std::atomic<bool> stop{false};
  std::vector<std::thread> pool;
  const std::int64_t cpu0 = process_cpu_ns();
  for (int t = 0; t < waiters; ++t) {
    pool.emplace_back([&] {
      while (!stop.load()) {
        lock.lock();
        lock.unlock();
        std::this_thread::sleep_for(50us);
      }
    });
  }
  for (int i = 0; i < holds; ++i) {
    lock.lock();
    std::this_thread::sleep_for(2ms);
    lock.unlock();
    std::this_thread::sleep_for(200us);
  }
  stop.store(true);
  for (auto& th : pool) th.join();
  return static_cast<double>(process_cpu_ns() - cpu0) / 1e3 / (2.0 * holds);
}

}  // namespace

// n lock acquisitions shared by `procs` threads (default 8: four per core on this machine).
std::vector<result> lock_oversubscribed(const job& j) {
  const int threads = j.procs > 0 ? j.procs : 8;
  std::vector<result> out;
  auto row = [&](const std::string& op, const lock_run& r) {
    out.push_back({.op = op,
                   .n = j.n,
                   .value = round3(r.ns_per_op),
                   .unit = "ns/op",
                   .extra = {{"threads", threads},
                             {"cores", std::thread::hardware_concurrency()},
                             {"cpu_ns_per_op", round3(r.cpu_ns_per_op)},
                             {"voluntary_switches", r.voluntary_switches}}});
  };
  row("lock_oversubscribed", contend<spinlock>(j.n, threads));
  row("lock_oversubscribed_yielding", contend<yielding_lock>(j.n, threads));
  for (const bool futex : {true, false}) {
    const double us = futex ? cpu_while_held<spinlock>(threads - 2, 100)
                            : cpu_while_held<yielding_lock>(threads - 2, 100);
    out.push_back({.op = futex ? "lock_holder_off_cpu" : "lock_holder_off_cpu_yielding",
                   .n = 100,
                   .value = round3(us),
                   .unit = "cpu_us/ms_held",
                   .extra = {{"waiters", threads - 2}, {"hold_ms", 2}}});
  }
  return out;
}

}  // namespace gprofid::bench
