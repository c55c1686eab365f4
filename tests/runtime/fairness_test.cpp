// Fairness of the scheduler (issue 14): goroutines that compute and yield often must not starve
// goroutines woken by timers, the reactor or other threads, and a woken goroutine runs on its
// waker's worker.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "gprofid/event.hpp"
#include "gprofid/net.hpp"
#include "gprofid/runtime.hpp"
#include "gprofid/sleep.hpp"
#include "gprofid/timer_channel.hpp"
#include "gprofid/wait_group.hpp"
#include "reactor.hpp"
#include "scheduler.hpp"

namespace gprofid {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

void spin_for(std::chrono::nanoseconds d) {
  const auto until = steady::now() + d;
  while (steady::now() < until) {
  }
}

TEST_CASE("fairness: a yield runs behind a goroutine another thread made runnable") {
  // One worker, no timing: the spinner yields in a loop; a plain thread sets the event main
  // waits on (main goes to the global queue). Main must resume before the spinner's next run.
  runtime rt({.workers = 1});
  rt.run([]() -> task<void> {
    event ready_to_set, main_wakes;
    std::atomic<int> spins{0};
    std::atomic<bool> stop{false};
    wait_group done;
    done.add(1);
    go([](std::atomic<int>& spins, std::atomic<bool>& stop, event& ready_to_set,
          wait_group& done) -> task<void> {
      ready_to_set.set();
      while (!stop.load()) {
        spins.fetch_add(1);
        co_await yield();
      }
      done.done();
    }(spins, stop, ready_to_set, done));
    co_await ready_to_set.wait();
    std::atomic<int> spins_at_set{-1};
    std::thread setter([&] {
      // Let the spinner go round a few times first.
      while (spins.load() < 100) std::this_thread::yield();
      main_wakes.set();
      // Read after the wake-up: a setter preempted in between can only make the check laxer.
      spins_at_set.store(spins.load());
    });
    co_await main_wakes.wait();
    const int spins_at_wake = spins.load();
    setter.join();
    // Before this change the yielder kept the worker for up to 61 rounds.
    // The spinner may have been between its count and its yield when main was queued.
    CHECK(spins_at_wake - spins_at_set.load() <= 2);
    stop.store(true);
    co_await done.wait();
  }());
}

TEST_CASE("fairness: a yield runs behind the goroutines its worker's due timers wake") {
  runtime rt({.workers = 1});
  rt.run([]() -> task<void> {
    std::atomic<int> spins{0};
    std::atomic<bool> stop{false};
    wait_group done;
    done.add(1);
    go([](std::atomic<int>& spins, std::atomic<bool>& stop, wait_group& done) -> task<void> {
      while (!stop.load()) {
        spins.fetch_add(1);
        spin_for(100us);
        co_await yield();
      }
      done.done();
    }(spins, stop, done));
    // The only worker is busy with the spinner from now on: the timer is due long before main
    // gets the worker back unless the worker fires it between two yields.
    for (int i = 0; i < 20; ++i) {
      const auto before = steady::now();
      const int spins_before = spins.load();
      co_await sleep_for(1ms);
      const auto late = steady::now() - before - 1ms;
      // At most a couple of spinner slices (100 us each) after the deadline, plus the OS: the
      // bound is generous, a starved timer waits for 61 slices and a timer thread's time slice.
      CHECK(spins.load() - spins_before <= 1ms / 100us + 3);
      CHECK(late < 50ms);
    }
    stop.store(true);
    co_await done.wait();
  }());
}

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch())
      .count();
}

// A small index per thread, to count per worker thread.
constexpr int thread_slots = 64;
int thread_slot() {
  static std::atomic<int> next{0};
  thread_local const int slot = next.fetch_add(1) % thread_slots;
  return slot;
}

// A goroutine woken by a timer, with how late it ran counted in spinner slices: the slices that
// started, on the worker thread it finally ran on, after its deadline and before it resumed.
// This measures the scheduling order whatever share of the CPU the machine leaves us (slices of
// the other worker while this one was descheduled by the OS are not the scheduler's doing).
struct timed_waker {
  std::atomic<std::int64_t> deadline_ns{0};  // 0 while not waiting
  std::atomic<int> late_slices[thread_slots] = {};
  std::atomic<int> max_late_slices{0};
  std::atomic<int> wakes{0};

  void arm(std::chrono::nanoseconds d) { deadline_ns.store(steady_ns() + d.count()); }
  void woke() {
    deadline_ns.store(0);
    const int late = late_slices[thread_slot()].load();
    for (auto& n : late_slices) n.store(0);
    if (late > max_late_slices.load()) max_late_slices.store(late);
    wakes.fetch_add(1);
  }
  void slice_starts(std::int64_t now) {
    const std::int64_t d = deadline_ns.load();
    if (d != 0 && now > d) late_slices[thread_slot()].fetch_add(1);
  }
};

struct rates {
  double loop_hz = 0;
  double dispatch_hz = 0;
  double spinner_cpu_share = 0;  // of the spinners' slices, the CPU time they got (1 = all)
  int loop_late_slices = 0;
  int dispatch_late_slices = 0;
};

// The new user's program (issue 14): a 10 ms sleep loop and a dispatcher woken by 5 ms timers,
// measured over `window`, beside `spinners` goroutines computing 200 us between yields.
rates measure(int spinners, std::chrono::milliseconds window) {
  rates r;
  runtime rt({.workers = 2});
  rt.run([](int spinners, std::chrono::milliseconds window, rates& r) -> task<void> {
    std::atomic<bool> stop{false};
    std::atomic<int> slices{0};
    std::atomic<std::int64_t> slice_ns{0};
    timed_waker loop, dispatcher;
    wait_group done;
    done.add(2 + spinners);
    go([](std::atomic<bool>& stop, timed_waker& loop, wait_group& done) -> task<void> {
      while (!stop.load()) {
        loop.arm(10ms);
        co_await sleep_for(10ms);
        loop.woke();
      }
      done.done();
    }(stop, loop, done));
    go([](std::atomic<bool>& stop, timed_waker& dispatcher, wait_group& done) -> task<void> {
      while (!stop.load()) {
        dispatcher.arm(5ms);
        co_await after(5ms).recv();
        dispatcher.woke();
      }
      done.done();
    }(stop, dispatcher, done));
    for (int i = 0; i < spinners; ++i) {
      go([](std::atomic<bool>& stop, std::atomic<int>& slices, std::atomic<std::int64_t>& slice_ns,
            timed_waker& loop, timed_waker& dispatcher, wait_group& done) -> task<void> {
        while (!stop.load()) {
          const std::int64_t from = steady_ns();
          loop.slice_starts(from);
          dispatcher.slice_starts(from);
          spin_for(200us);
          slices.fetch_add(1);
          slice_ns.fetch_add(steady_ns() - from);
          co_await yield();
        }
        done.done();
      }(stop, slices, slice_ns, loop, dispatcher, done));
    }
    co_await sleep_for(50ms);  // settle
    const int loops0 = loop.wakes.load(), dispatches0 = dispatcher.wakes.load();
    const int slices0 = slices.load();
    const std::int64_t slice_ns0 = slice_ns.load();
    loop.max_late_slices.store(0);
    dispatcher.max_late_slices.store(0);
    const auto t0 = steady::now();
    co_await sleep_for(window);
    // Rates over the time that actually passed: main is timer-woken too, and may wake late.
    const double secs = std::chrono::duration<double>(steady::now() - t0).count();
    r.loop_hz = (loop.wakes.load() - loops0) / secs;
    r.dispatch_hz = (dispatcher.wakes.load() - dispatches0) / secs;
    r.loop_late_slices = loop.max_late_slices.load();
    r.dispatch_late_slices = dispatcher.max_late_slices.load();
    // A slice preempted by the OS takes longer than 200 us of wall time.
    const int n = slices.load() - slices0;
    if (n > 0) r.spinner_cpu_share = n * 200e3 / static_cast<double>(slice_ns.load() - slice_ns0);
    stop.store(true);
    co_await done.wait();
    if (spinners > 0) CHECK(n > 0);
  }(spinners, window, r));
  return r;
}

TEST_CASE("fairness: goroutines yielding every 200 us do not starve timer-woken ones (2 workers)") {
  // Before: the 10 ms loop ran at ~17% of its rate, each wake-up waiting ~61 spinner slices.
  // The order is checked on every attempt: after a deadline, a timer-woken goroutine runs
  // within a few slices of the worker it runs on. The rates (>= 90% of the unloaded ones) are
  // judged only when the OS gave our workers the CPU (spinner slices not stretched by preemption):
  // on a shared 2-core machine CPU-bound threads are descheduled for many milliseconds at a time,
  // which slows timer wake-ups in any runtime.
  // Lateness is judged on the best of up to three attempts: one preemption of a worker by the OS
  // (or ThreadSanitizer's slowdown) can make a single run late, but the starvation this test
  // exists for made every run late by a hundred slices or more.
  bool judged = false;
  bool kept_pace = false;
  long best_late = 1L << 30;
  for (int attempt = 0; attempt < 3 && !(kept_pace && best_late <= 8); ++attempt) {
    const rates quiet = measure(0, 300ms);
    const rates loaded = measure(2, 300ms);
    MESSAGE("unloaded: loop " << quiet.loop_hz << " Hz, dispatcher " << quiet.dispatch_hz
                              << " Hz; with 2 spinners: loop " << loaded.loop_hz
                              << " Hz, dispatcher " << loaded.dispatch_hz << " Hz, late by at most "
                              << loaded.loop_late_slices << " and " << loaded.dispatch_late_slices
                              << " slices, spinners got " << loaded.spinner_cpu_share * 100
                              << "% of their CPU");
    best_late =
        std::min(best_late,
                 static_cast<long>(std::max(loaded.loop_late_slices, loaded.dispatch_late_slices)));
    if (loaded.spinner_cpu_share < 0.9) continue;
    judged = true;
    kept_pace = kept_pace || (loaded.loop_hz >= 0.9 * quiet.loop_hz &&
                              loaded.dispatch_hz >= 0.9 * quiet.dispatch_hz);
  }
  CHECK(best_late <= 8);
  if (judged) {
    CHECK(kept_pace);
  } else {
    MESSAGE("the machine was too busy to judge the rates; only the order was checked");
  }
}

// A goroutine parked reading one end of a socket pair, in a runtime whose reactor thread is
// stopped: from then on only a worker's own poll can see the socket become ready (the stopped
// thread stands for a reactor thread that gets no CPU because every core runs workers).
struct socket_reader {
  int fds[2] = {-1, -1};
  std::atomic<bool> got{false};
  event read_done;

  socket_reader() {
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
  }
  ~socket_reader() { ::close(fds[1]); }

  static task<void> read_one(socket_reader& r) {
    tcp_stream s(r.fds[0]);
    std::byte b{};
    const std::size_t n = co_await s.read(std::span<std::byte>(&b, 1));
    r.got.store(n == 1);
    r.read_done.set();
  }
  void send() const { REQUIRE(::write(fds[1], "x", 1) == 1); }
};

TEST_CASE("fairness: a busy worker polls socket readiness itself between runs") {
  // One worker kept busy by main yielding: the reader must be woken by the worker's periodic
  // poll, at most every io_poll_rounds (1024) rounds (sooner by the 100 us interval).
  runtime rt({.workers = 1});
  rt.run([](runtime& rt) -> task<void> {
    rt.io_reactor().stop();
    socket_reader r;
    go(socket_reader::read_one(r));
    co_await yield();  // the reader runs and parks on its socket
    r.send();
    int yields = 0;
    while (!r.read_done.is_set() && yields < 100'000) {
      co_await yield();
      ++yields;
    }
    CHECK(r.got.load());
    CHECK(yields <= static_cast<int>(scheduler::io_poll_rounds) + 2);
  }(rt));
}

TEST_CASE("fairness: a worker whose queue runs dry polls socket readiness before sleeping") {
  // Main parks right after the write: the worker's queue is empty, so it polls at once. Were it
  // to sleep instead, nothing would wake it for the reader (the reactor thread is stopped): a
  // watchdog thread sets the event after 10 s so that the failure is a CHECK, not a hang.
  runtime rt({.workers = 1});
  rt.run([](runtime& rt) -> task<void> {
    rt.io_reactor().stop();
    socket_reader r;
    go(socket_reader::read_one(r));
    co_await yield();
    event woken;
    std::mutex m;
    std::condition_variable cv;
    bool finished = false;
    std::thread watchdog([&] {
      std::unique_lock lock(m);
      if (!cv.wait_for(lock, 10s, [&] { return finished; })) woken.set();
    });
    go([](socket_reader& r, event& woken) -> task<void> {
      co_await r.read_done.wait();
      woken.set();
    }(r, woken));
    r.send();
    co_await woken.wait();
    CHECK(r.read_done.is_set());
    {
      std::lock_guard lock(m);
      finished = true;
    }
    cv.notify_one();
    watchdog.join();
  }(rt));
}

}  // namespace
}  // namespace gprofid
