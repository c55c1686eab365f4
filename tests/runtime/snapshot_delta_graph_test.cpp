// The wait-for graph in incremental snapshots (change_cursor::set_graph_limit): a delta carries
// the whole graph at its instant, so a wait that forms between two deltas is in the next one,
// and once the churn stops it is the graph a full snapshot shows.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "gprofid/channel.hpp"
#include "gprofid/mutex.hpp"
#include "gprofid/runtime.hpp"
#include "gprofid/snapshot.hpp"
#include "gprofid/wait_group.hpp"
#include "test_support.hpp"

namespace gprofid {
namespace {

using testing::object_by_id;

task<void> receive(chan<int> c) {
  co_await c.recv();
}

task<void> lock_both(std::shared_ptr<mutex> first, std::shared_ptr<mutex> second) {
  auto one = co_await first->scoped_lock();
  co_await yield();  // the other goroutine takes its first lock
  auto two = co_await second->scoped_lock();
}

// Every goroutine's blocked_on as one delta tells it: its record, else its entry in `waits`.
std::map<std::uint64_t, std::uint64_t> edges_of(const snapshot_delta& d) {
  std::map<std::uint64_t, std::uint64_t> out;
  for (const auto& w : d.waits) out[w.id] = w.blocked_on;
  for (const auto& r : d.changes.goroutines) out[r.id] = r.blocked_on;
  std::erase_if(out, [](const auto& e) { return e.second == 0; });
  return out;
}

std::map<std::uint64_t, std::uint64_t> edges_of(const snapshot& s) {
  std::map<std::uint64_t, std::uint64_t> out;
  for (const auto& r : s.goroutines) {
    if (r.blocked_on != 0) out[r.id] = r.blocked_on;
  }
  return out;
}

TEST_CASE("snapshot delta graph: a deadlock between two deltas is in the next; the limit holds") {
  runtime rt({.workers = 1, .manual_clock = true});
  rt.run([](runtime& rt) -> task<void> {
    change_cursor cursor;
    cursor.set_graph_limit(100);
    auto held = make_chan<int>();
    const std::uint64_t early = go(receive(held));
    co_await yield();
    const snapshot_delta full = rt.take_snapshot_delta(cursor);
    REQUIRE(full.full);
    REQUIRE(full.changes.find(early));
    const std::uint64_t channel = full.changes.find(early)->blocked_on;
    REQUIRE(channel != 0);

    // Nothing changed: the early receiver's wait is in `waits`, its channel in the objects.
    const snapshot_delta quiet = rt.take_snapshot_delta(cursor);
    CHECK_FALSE(quiet.full);
    CHECK(quiet.graph);
    CHECK_FALSE(quiet.changes.find(early));
    REQUIRE(quiet.waits.size() == 1);
    CHECK(quiet.waits[0].id == early);
    CHECK(quiet.waits[0].blocked_on == channel);
    REQUIRE(object_by_id(quiet.changes, channel));
    CHECK(object_by_id(quiet.changes, channel)->held_by == std::vector<std::uint64_t>{early});

    auto a = std::make_shared<mutex>();
    auto b = std::make_shared<mutex>();
    const std::uint64_t x = go(lock_both(a, b));
    const std::uint64_t y = go(lock_both(b, a));
    for (int i = 0; i < 4; ++i) co_await yield();
    const snapshot_delta formed = rt.take_snapshot_delta(cursor);
    CHECK(formed.graph);
    REQUIRE(formed.changes.find(x));
    REQUIRE(formed.changes.find(y));
    const auto* mx = object_by_id(formed.changes, formed.changes.find(x)->blocked_on);
    const auto* my = object_by_id(formed.changes, formed.changes.find(y)->blocked_on);
    REQUIRE(mx);
    REQUIRE(my);
    CHECK(mx->kind == wait_object_kind::mutex);
    CHECK(mx->owner == y);
    CHECK(my->owner == x);
    CHECK(formed.changes.lock_sites.size() == 2);  // where each holder took its mutex
    CHECK(edges_of(formed) == edges_of(rt.take_snapshot()));

    // Three goroutines parked on objects: past a limit of 2 this delta is the last with a graph.
    cursor.set_graph_limit(2);
    CHECK(rt.take_snapshot_delta(cursor).graph);
    const snapshot_delta past = rt.take_snapshot_delta(cursor);
    CHECK_FALSE(past.graph);
    CHECK(past.changes.objects.empty());
    CHECK(past.waits.empty());
    cursor.set_graph_limit(100);  // small enough again: the next full snapshot finds out
    CHECK_FALSE(rt.take_snapshot_delta(cursor).graph);
    CHECK(rt.take_snapshot_delta(cursor, /*refresh=*/true).full);
    CHECK(rt.take_snapshot_delta(cursor).graph);
    held.close();
  }(rt));
}

// A ring of goroutines passing a token, each also locking a shared mutex, while a thread takes
// deltas with the graph; once the ring has stopped, the last delta's graph is a full one's.
TEST_CASE("snapshot delta graph: after churn on every worker, the delta's graph is the full one") {
  runtime rt({.workers = 2});
  constexpr std::size_t ring = 16, rounds = 300;
  std::vector<chan<std::size_t>> links;
  for (std::size_t i = 0; i < ring; ++i) links.push_back(make_chan<std::size_t>());
  auto m = std::make_shared<mutex>();
  auto stop = make_chan<int>();
  wait_group done;
  std::atomic<bool> finished{false};
  change_cursor cursor;
  cursor.set_graph_limit(1000);
  std::atomic<int> deltas_with_graph{0};
  std::thread sampler([&] {
    while (!finished.load()) {
      if (rt.take_snapshot_delta(cursor).graph) ++deltas_with_graph;
    }
  });
  rt.run([](std::vector<chan<std::size_t>>& links, std::shared_ptr<mutex> m, chan<int> stop,
            wait_group& done, std::atomic<bool>& finished, runtime& rt, change_cursor& cursor,
            std::thread& sampler, std::atomic<int>& sampled) -> task<void> {
    done.add(ring);
    for (std::size_t i = 0; i < ring; ++i) {
      go([](chan<std::size_t> in, chan<std::size_t> out, std::shared_ptr<mutex> m, chan<int> stop,
            bool first, wait_group& done, std::atomic<int>& sampled) -> task<void> {
        constexpr std::size_t end = std::size_t{1} << 40;
        if (first) co_await out.send(std::size_t{0});
        for (;;) {
          std::optional<std::size_t> v = co_await in.recv();
          if (*v >= end) {
            // The end goes once around: each stops after passing it on, but the last.
            if (*v < end + ring - 2) co_await out.send(*v + 1);
            break;
          }
          if (*v >= ring * rounds && sampled.load() >= 20) {  // enough deltas during the churn
            co_await out.send(end);
            break;
          }
          { auto lock = co_await m->scoped_lock(); }
          co_await out.send(*v + 1);
        }
        done.done();
        co_await stop.recv();  // every one parks here, holding a handle to `stop`
      }(links[i], links[(i + 1) % ring], m, stop, i == 0, done, sampled));
    }
    co_await done.wait();
    // The ring has stopped: everyone but main parks on `stop` (one may still be on its way).
    finished.store(true);
    sampler.join();
    for (;;) {
      const snapshot_delta d = rt.take_snapshot_delta(cursor);
      const snapshot full = rt.take_snapshot();
      if (!d.graph || edges_of(d).size() < ring || edges_of(full).size() < ring) {
        co_await yield();  // one is still on its way to `stop`
        continue;
      }
      CHECK(edges_of(d) == edges_of(full));
      CHECK(d.changes.objects == full.objects);
      break;
    }
    stop.close();
  }(links, m, stop, done, finished, rt, cursor, sampler, deltas_with_graph));
  MESSAGE(deltas_with_graph.load() << " deltas with the graph during the churn");
  CHECK(deltas_with_graph.load() >= 20);
}

// A measurement, not a check (skipped; run with -tc='*cost*' --no-skip): the time of a delta in
// which nothing changed, with N goroutines parked on channels, with and without the graph.
TEST_CASE("snapshot delta graph: cost per parked goroutine" * doctest::skip()) {
  for (const std::size_t n : {1000, 10000}) {
    runtime rt({.workers = 1, .manual_clock = true});
    rt.run([](runtime& rt, std::size_t n) -> task<void> {
      std::vector<chan<int>> chans;
      for (std::size_t i = 0; i < n; ++i) {
        chans.push_back(make_chan<int>());
        go(receive(chans.back()));
      }
      co_await yield();
      for (const std::size_t limit : {std::size_t{0}, n}) {
        change_cursor cursor;
        cursor.set_graph_limit(limit);
        (void)rt.take_snapshot_delta(cursor);  // full
        constexpr int reps = 50;
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < reps; ++i) (void)rt.take_snapshot_delta(cursor);
        const double us =
            std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
                .count() /
            reps;
        MESSAGE(n << " parked, graph limit " << limit << ": " << us << " us per delta, "
                  << us * 1000 / static_cast<double>(n) << " ns per parked goroutine");
      }
      for (auto& c : chans) c.close();
    }(rt, n));
  }
}

}  // namespace
}  // namespace gprofid
