#include "gprofid/runtime.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <source_location>
#include <thread>
#include <vector>

#include "gprofid/channel.hpp"
#include "gprofid/this_goroutine.hpp"

namespace gprofid {
namespace {

task<void> report_then_park(int index, chan<int> started, chan<int> gate) {
  co_await started.send(index);
  (void)co_await gate.recv();
}

// rt.spawn(t) from threads of the program's own: what a callback of a C library, a thread pool
// or main() does to hand work to the runtime, with no spawn_site to make.
TEST_CASE("runtime: spawn from plain threads starts goroutines without a parent") {
  constexpr int threads = 4;
  constexpr int per_thread = 100;
  runtime rt({.workers = 2});
  auto started = make_chan<int>(threads * per_thread);
  auto gate = make_chan<int>();
  std::uint32_t spawn_line = 0;
  std::vector<std::thread> spawners;
  for (int t = 0; t < threads; ++t) {
    spawners.emplace_back([&rt, started, gate, t, &spawn_line] {
      for (int i = 0; i < per_thread; ++i) {
        if (t == 0 && i == 0) spawn_line = std::source_location::current().line() + 1;
        rt.spawn(report_then_park(t * per_thread + i, started, gate));
      }
    });
  }
  for (auto& s : spawners) s.join();
  rt.run(
      [](runtime& rt, chan<int> started, chan<int> gate, std::uint32_t spawn_line) -> task<void> {
        long sum = 0;
        for (int i = 0; i < threads * per_thread; ++i) sum += *co_await started.recv();
        CHECK(sum == long{threads * per_thread} * (threads * per_thread - 1) / 2);
        const snapshot snap = rt.take_snapshot();
        int spawned = 0;
        for (const goroutine_record& g : snap.goroutines) {
          if (g.id == this_goroutine::id()) continue;
          ++spawned;
          CHECK(g.parent_id == 0);
          CHECK(g.site.location.line() == spawn_line);
          CHECK(std::strstr(g.site.location.file_name(), "runtime_test.cpp") != nullptr);
        }
        CHECK(spawned == threads * per_thread);
        gate.close();
      }(rt, started, gate, spawn_line));
}

task<void> spin(std::atomic<long>& runs) {
  for (;;) {
    runs.fetch_add(1, std::memory_order_relaxed);
    co_await yield();
  }
}

// A service that takes its time to stop, like the recorder writing its last sample, and counts
// the goroutine runs it sees meanwhile.
class slow_to_stop final : public runtime_service {
 public:
  slow_to_stop(std::atomic<long>& runs, long& runs_while_stopping)
      : runs_(runs), runs_while_stopping_(runs_while_stopping) {}
  void start(runtime&) override {}
  void stop() override {
    // A run in progress as main ended may still count once: not after 20 ms.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const long before = runs_.load();
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    runs_while_stopping_ = runs_.load() - before;
  }

 private:
  std::atomic<long>& runs_;
  long& runs_while_stopping_;
};

// Go exits when main returns. Here the others' frames are freed at teardown, but until then
// nothing may run either: they may point into main's frame, gone already (a goroutine woken
// in accept on main's listener ran on the closed descriptor and panicked, only when recorded,
// since the recorder's service takes a while to stop).
TEST_CASE("runtime: no goroutine runs once main has returned, while services stop") {
  std::atomic<long> runs{0};
  long runs_while_stopping = -1;
  runtime rt({.workers = 2});
  rt.add_service(std::make_unique<slow_to_stop>(runs, runs_while_stopping));
  rt.run([](std::atomic<long>& runs) -> task<void> {
    go(spin(runs));
    while (runs.load() < 100) co_await yield();
  }(runs));
  CHECK(runs_while_stopping == 0);
  CHECK(rt.live_goroutines() == 1);  // the spinner, freed with the runtime
}

}  // namespace
}  // namespace gprofid
