// The snapshot guarantee under churn: goroutines spawning and exiting on every worker while
// another thread takes snapshots back to back.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "gprofid/channel.hpp"
#include "gprofid/detail/park.hpp"
#include "gprofid/labels.hpp"
#include "gprofid/runtime.hpp"
#include "tests/runtime/test_support.hpp"

namespace gprofid {
namespace {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int snapshots_to_take = 150;
#else
constexpr int snapshots_to_take = 1500;
#endif

task<void> churn_leaf(int yields) {
  for (int i = 0; i < yields; ++i) co_await yield();
}

task<void> churn(int n) {
  co_await churn_leaf(n % 3);
  if (n % 4 == 0) go(churn_leaf(1));
}

task<void> anchor() {
  co_await testing::park_forever{wait_reason::chan_receive};
}

struct observed {
  int snapshots = 0;
  int duplicate_ids = 0;
  int missing_anchors = 0;
  int dead_or_empty = 0;
  std::size_t max_size = 0;
};

TEST_CASE("snapshot: consistent while goroutines spawn and exit on every worker") {
  runtime rt({.workers = 2});
  std::atomic<bool> done{false};
  std::vector<std::uint64_t> anchors;
  observed seen;

  std::thread sampler;
  rt.run([](runtime& rt, std::atomic<bool>& done, std::vector<std::uint64_t>& anchors,
            observed& seen, std::thread& sampler) -> task<void> {
    for (int i = 0; i < 50; ++i) anchors.push_back(go(anchor()));
    sampler = std::thread([&rt, &done, &anchors, &seen] {
      for (int s = 0; s < snapshots_to_take; ++s) {
        snapshot snap = rt.take_snapshot();
        ++seen.snapshots;
        seen.max_size = std::max(seen.max_size, snap.goroutines.size());
        std::unordered_set<std::uint64_t> ids;
        for (const auto& r : snap.goroutines) {
          if (!ids.insert(r.id).second) ++seen.duplicate_ids;
          if (r.state == goroutine_state::dead || snap.stack_of(r).empty()) ++seen.dead_or_empty;
        }
        for (auto a : anchors) {
          if (!ids.count(a)) ++seen.missing_anchors;
        }
      }
      done = true;
    });
    for (int n = 0; !done.load(); ++n) {
      go(churn(n));
      if (n % 8 == 0) co_await yield();
    }
  }(rt, done, anchors, seen, sampler));
  sampler.join();

  CHECK(seen.snapshots == snapshots_to_take);
  CHECK(seen.duplicate_ids == 0);
  CHECK(seen.missing_anchors == 0);
  CHECK(seen.dead_or_empty == 0);
  CHECK(seen.max_size > anchors.size());  // churn was really going on
}

// A ring of goroutines passing one token, each labelling itself with the last token value it
// received. At any instant the labels read V, V-1, ..., V-n+1 backwards along the ring from the
// holder: exactly one place where the next goroutine's value is not one more. A goroutine read
// before the token reached it and another read after it passed would show two such places.
// Parked goroutines between the members slow the walk down, so the token laps the ring many
// times while one snapshot reads it.
constexpr int ring_size = 32;
constexpr int parked_between = 300;
constexpr int ring_snapshots = snapshots_to_take / 10;

int token_places(const snapshot& snap, const std::vector<std::uint64_t>& ring) {
  return testing::ring_breaks(ring, [&](std::uint64_t id) -> const label_ptr* {
    const goroutine_record* r = snap.find(id);
    return r ? &r->labels : nullptr;
  });
}

TEST_CASE("snapshot: exact at the instant: a token passed around a ring is in exactly one place") {
  runtime rt({.workers = 2});
  std::atomic<bool> done{false};
  std::vector<std::uint64_t> ring;
  int judged = 0, wrong = 0;
  std::thread sampler;
  rt.run([](runtime& rt, std::atomic<bool>& done, std::vector<std::uint64_t>& ring, int& judged,
            int& wrong, std::thread& sampler) -> task<void> {
    std::vector<chan<std::int64_t>> links;
    for (int i = 0; i < ring_size; ++i) links.push_back(make_chan<std::int64_t>());
    for (int i = 0; i < ring_size; ++i) {
      for (int k = 0; k < parked_between; ++k) go(anchor());
      ring.push_back(go(testing::ring_member(links[i], links[(i + 1) % ring_size], done)));
    }
    sampler = std::thread([&rt, &done, &ring, &judged, &wrong] {
      for (int taken = 0; judged < ring_snapshots && taken < 100 * ring_snapshots; ++taken) {
        const int places = token_places(rt.take_snapshot(), ring);
        if (places < 0) continue;  // before the first lap
        ++judged;
        if (places != 1) ++wrong;
      }
      done = true;
    });
    co_await links[0].send(0);
    while (!done.load()) co_await yield();
  }(rt, done, ring, judged, wrong, sampler));
  sampler.join();
  MESSAGE(judged << " snapshots judged");
  CHECK(judged > 0);
  CHECK(wrong == 0);
}

TEST_CASE("snapshot: anchors show their wait reason and the main goroutine is running") {
  runtime rt({.workers = 1});
  snapshot snap;
  rt.run([](runtime& rt, snapshot& snap) -> task<void> {
    for (int i = 0; i < 3; ++i) go(anchor());
    co_await yield();
    snap = rt.take_snapshot();
  }(rt, snap));
  REQUIRE(snap.goroutines.size() == 4);
  int waiting = 0;
  for (const auto& r : snap.goroutines) {
    if (r.id == 1) {
      CHECK(r.state == goroutine_state::running);
    } else {
      CHECK(r.state == goroutine_state::waiting);
      CHECK(r.reason == wait_reason::chan_receive);
      CHECK(r.wait_since_ns > 0);
      ++waiting;
    }
  }
  CHECK(waiting == 3);
  // Three goroutines parked at the same line share one interned stack.
  std::unordered_set<std::uint32_t> stacks;
  for (const auto& r : snap.goroutines) {
    if (r.id != 1) stacks.insert(r.stack);
  }
  CHECK(stacks.size() == 1);
}

}  // namespace
}  // namespace gprofid
