// Stress of the runtime and the sampler: spawners on every worker create and retire goroutines
// as fast as they can while a sampler thread takes GoroutineProfileWithID every millisecond and
// checks, pair by pair, what the ID guarantee promises (docs/guarantees.md):
//   - every sample has unique ids;
//   - an id, once seen exited, never reappears;
//   - running + runnable time never exceeds a goroutine's age;
//   - ids increase in creation order (a spawner's children, in id order, were created in order);
//   - nothing alive is lost: a spawner's child older than one already in the earlier sample and
//     alive in the later one is in both, and every goroutine that is new in the later sample is
//     in the diff's `created` (sampler/diff.hpp), every one gone in its `exited`.
// Usage: reliability_stress [--goroutines N] [--seconds S] [--workers W] [--interval-us U]
// Exits 1 with a message on the first violation. Built under ASan it checks for leaks, under
// TSan for races.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "gprofid/analysis/diff.hpp"
#include "gprofid/clock.hpp"
#include "gprofid/recorder/profile.hpp"
#include "gprofid/recorder/symbolizer.hpp"
#include "gprofid/runtime.hpp"
#include "gprofid/sleep.hpp"
#include "gprofid/this_goroutine.hpp"
#include "gprofid/wait_group.hpp"

namespace {

using namespace gprofid;

struct stress_options {
  std::uint64_t goroutines = 100'000;
  std::size_t workers = 0;  // 0: one per core, at least 2
  std::int64_t interval_ns = 1'000'000;
  std::int64_t span_ns = 2'000'000'000;  // spawning is spread over this long
};

[[noreturn]] void violation(const std::string& what) {
  std::fprintf(stderr, "reliability_stress: VIOLATION: %s\n", what.c_str());
  std::exit(1);
}

// A child lives for a few scheduling rounds or a short sleep, so that samples catch it alive
// (runnable, running or waiting) and see it exit.
task<void> child(std::uint32_t how, wait_group& wg) {
  if (how % 4 == 0) {
    co_await sleep_for(std::chrono::microseconds(how % 3000));
  } else {
    for (std::uint32_t i = 0; i < how % 8; ++i) co_await yield();
  }
  wg.done();
}

// Spawns `count` children, spread evenly over `span_ns`.
task<void> spawner(std::uint64_t count, std::int64_t span_ns, std::uint32_t seed, wait_group& wg) {
  std::uint32_t x = seed * 2654435761u + 1;
  std::uint64_t last_id = 0;
  const std::int64_t start = monotonic_ns();
  for (std::uint64_t i = 0; i < count; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    wg.add(1);
    const std::uint64_t id = go(child(x, wg));
    if (id <= last_id)
      violation("go() returned id " + std::to_string(id) + " after " + std::to_string(last_id));
    last_id = id;
    // Keep the pace (and the spawner fair to its children).
    if (i % 64 == 63) {
      const std::int64_t due =
          start + static_cast<std::int64_t>(static_cast<double>(span_ns) * (i + 1) / count);
      if (due > monotonic_ns()) {
        co_await sleep_for(std::chrono::nanoseconds(due - monotonic_ns()));
      } else {
        co_await yield();
      }
    }
  }
  wg.done();
}

task<void> stress_main(std::uint64_t goroutines, std::int64_t span_ns, std::size_t spawners,
                       wait_group& wg) {
  // The spawners' own goroutines land on every worker's run queue.
  for (std::size_t s = 0; s < spawners; ++s) {
    wg.add(1);
    go(spawner(goroutines / spawners, span_ns, static_cast<std::uint32_t>(s + 1), wg));
  }
  co_await wg.wait();
}

// What the checker knows of each id: never seen, seen alive, seen exited.
enum class seen : std::uint8_t { never, alive, exited };

class checker {
 public:
  void check(const sample& s, const symbol_tables& tables) {
    ++samples_;
    for (std::size_t i = 1; i < s.goroutines.size(); ++i) {
      if (s.goroutines[i - 1].id >= s.goroutines[i].id) {
        violation("sample " + std::to_string(samples_) + ": duplicate or unsorted id " +
                  std::to_string(s.goroutines[i].id));
      }
    }
    for (const auto& g : s.goroutines) {
      if (g.id >= state_.size()) state_.resize(std::max<std::size_t>(g.id + 1, state_.size() * 2));
      if (state_[g.id] == seen::exited) {
        violation("id " + std::to_string(g.id) + " seen exited, then alive again");
      }
      state_[g.id] = seen::alive;
      // Time accounting: a goroutine cannot have run or queued longer than it has existed.
      const std::int64_t age = s.time_ns + s.duration_ns - g.created_ns + 1'000'000;
      if (g.running_ns + g.runnable_ns > age) {
        violation("goroutine " + std::to_string(g.id) + " ran " + std::to_string(g.running_ns) +
                  " ns and queued " + std::to_string(g.runnable_ns) + " ns in " +
                  std::to_string(age) + " ns of life");
      }
    }
    check_creation_order(s);
    if (have_prev_) check_pair(prev_, s, tables);
    max_alive_ = std::max(max_alive_, s.goroutines.size());
    prev_ = s;
    have_prev_ = true;
  }

  std::uint64_t samples() const noexcept { return samples_; }
  std::uint64_t created_seen() const noexcept { return created_; }
  std::uint64_t exited_seen() const noexcept { return exited_; }
  std::size_t max_alive() const noexcept { return max_alive_; }

 private:
  // A spawner creates its children one after the other: in id order, creation times never go
  // backwards.
  void check_creation_order(const sample& s) {
    last_child_.clear();
    for (const auto& g : s.goroutines) {
      auto [it, fresh] = last_child_.try_emplace(g.parent_id, g.created_ns);
      if (!fresh) {
        if (g.created_ns < it->second) {
          violation("goroutine " + std::to_string(g.id) + " of parent " +
                    std::to_string(g.parent_id) + " has a smaller id but was created later");
        }
        it->second = g.created_ns;
      }
    }
  }

  void check_pair(const sample& before, const sample& after, const symbol_tables& tables) {
    const pair_diff d = diff_samples(before, after, tables);
    // The newest child of each spawner in `before`: every older child alive in `after` was
    // alive at `before`'s instant too, so it must be in `before`.
    newest_.clear();
    for (const auto& g : before.goroutines) newest_[g.parent_id] = g.id;  // ascending ids
    std::size_t bi = 0, ci = 0, ei = 0;
    for (const auto& g : after.goroutines) {
      while (bi < before.goroutines.size() && before.goroutines[bi].id < g.id) {
        expect_exited(before.goroutines[bi], d, ei);
        ++bi;
      }
      if (bi < before.goroutines.size() && before.goroutines[bi].id == g.id) {
        ++bi;
        continue;
      }
      // New in `after`.
      if (ci >= d.created.size() || d.created[ci]->id != g.id) {
        violation("goroutine " + std::to_string(g.id) +
                  " is new in the later sample but not in "
                  "the diff's created list");
      }
      ++ci;
      ++created_;
      if (auto it = newest_.find(g.parent_id); it != newest_.end() && g.id < it->second) {
        violation("goroutine " + std::to_string(g.id) +
                  " alive in both samples' instants is "
                  "missing from the earlier sample (its sibling " +
                  std::to_string(it->second) + " is there)");
      }
    }
    for (; bi < before.goroutines.size(); ++bi) expect_exited(before.goroutines[bi], d, ei);
    if (ci != d.created.size() || ei != d.exited.size()) {
      violation("the diff lists goroutines that are not new / not gone");
    }
  }

  void expect_exited(const goroutine_sample& g, const pair_diff& d, std::size_t& ei) {
    if (ei >= d.exited.size() || d.exited[ei]->id != g.id) {
      violation("goroutine " + std::to_string(g.id) + " is gone but not in the diff's exited list");
    }
    ++ei;
    ++exited_;
    state_[g.id] = seen::exited;
  }

  std::vector<seen> state_ = std::vector<seen>(1024, seen::never);
  std::unordered_map<std::uint64_t, std::int64_t> last_child_;
  std::unordered_map<std::uint64_t, std::uint64_t> newest_;
  sample prev_;
  bool have_prev_ = false;
  std::uint64_t samples_ = 0, created_ = 0, exited_ = 0;
  std::size_t max_alive_ = 0;
};

stress_options parse(int argc, char** argv) {
  stress_options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view a = argv[i];
    const auto v = std::strtoull(argv[i + 1], nullptr, 10);
    if (a == "--goroutines") {
      o.goroutines = v;
    } else if (a == "--workers") {
      o.workers = v;
    } else if (a == "--seconds") {
      o.span_ns = static_cast<std::int64_t>(v) * 1'000'000'000;
    } else if (a == "--interval-us") {
      o.interval_ns = static_cast<std::int64_t>(v) * 1000;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--goroutines N] [--seconds S] [--workers W] [--interval-us U]\n",
                   argv[0]);
      std::exit(2);
    }
  }
  if (o.workers == 0) o.workers = std::max(2u, std::thread::hardware_concurrency());
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const stress_options o = parse(argc, argv);
  const std::size_t spawners = o.workers * 2;
  runtime rt({.workers = o.workers});
  std::atomic<bool> done{false};
  checker c;
  symbolizer sym;
  std::thread sampler([&] {
    std::int64_t next = monotonic_ns();
    while (!done.load(std::memory_order_acquire)) {
      c.check(goroutine_profile_with_id(rt, sym), sym.tables());
      next += o.interval_ns;
      const std::int64_t wait = next - monotonic_ns();
      if (wait > 0) {
        std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
      } else {
        next = monotonic_ns();  // behind: no catch-up burst
      }
    }
  });
  const std::int64_t started = monotonic_ns();
  wait_group wg;
  rt.run(stress_main(o.goroutines, o.span_ns, spawners, wg));
  const double secs = static_cast<double>(monotonic_ns() - started) / 1e9;
  done.store(true, std::memory_order_release);
  sampler.join();
  std::printf(
      "reliability_stress: %llu goroutines on %zu workers in %.2f s; %llu samples (%.0f/s), "
      "up to %zu alive; %llu created and %llu exited seen between samples; no violation\n",
      static_cast<unsigned long long>(o.goroutines / spawners * spawners), o.workers, secs,
      static_cast<unsigned long long>(c.samples()), static_cast<double>(c.samples()) / secs,
      c.max_alive(), static_cast<unsigned long long>(c.created_seen()),
      static_cast<unsigned long long>(c.exited_seen()));
  if (c.samples() < 2 || c.created_seen() == 0 || c.exited_seen() == 0) {
    std::fprintf(stderr, "reliability_stress: too few samples to check anything\n");
    return 1;
  }
  return 0;
}
