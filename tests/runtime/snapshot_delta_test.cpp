// Incremental snapshots (runtime::take_snapshot_delta): a state kept from deltas alone is the
// state a full snapshot shows, the work follows the changes, exits and creations are reported
// once, and it stays exact at the instant under churn on every worker.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "gprofid/channel.hpp"
#include "gprofid/event.hpp"
#include "gprofid/labels.hpp"
#include "gprofid/runtime.hpp"
#include "gprofid/wait_group.hpp"
#include "tests/runtime/test_support.hpp"

namespace gprofid {
namespace {

// One goroutine as a state built from deltas holds it: the record with its stack resolved
// (stack indices are per snapshot).
struct seen_goroutine {
  goroutine_record record;
  stack_trace stack;
};

// What a sampler keeps: the last full snapshot with every delta since applied. A record with
// frames_kept (change_cursor::set_keep_frames) has the stack kept for its id, innermost call site
// replaced.
struct delta_view {
  std::map<std::uint64_t, seen_goroutine> goroutines;
  int unknown_exits = 0;
  int duplicate_changes = 0;
  int changed_and_exited = 0;
  int kept = 0;          // records with frames_kept
  int kept_unknown = 0;  // ... of an id the view did not hold, or in a full delta
  int whole = 0;         // records with their stack in the snapshot

  void apply(const snapshot_delta& d) {
    if (d.full) goroutines.clear();
    std::unordered_set<std::uint64_t> changed;
    for (const auto& r : d.changes.goroutines) {
      if (!changed.insert(r.id).second) ++duplicate_changes;
      if (r.stack != frames_kept) {
        ++whole;
        goroutines[r.id] = {r, d.changes.stack_of(r)};
        continue;
      }
      ++kept;
      auto it = goroutines.find(r.id);
      if (d.full || it == goroutines.end() || it->second.stack.empty()) {
        ++kept_unknown;
        continue;
      }
      it->second.record = r;
      it->second.stack.front().call_site = r.innermost_at;
    }
    for (auto id : d.exited) {
      if (changed.count(id)) ++changed_and_exited;
      if (goroutines.erase(id) == 0) ++unknown_exits;
    }
  }
};

// The fields a delta must keep exact; a running goroutine's counters move on, so they are
// compared for the others only.
void check_same(const delta_view& view, const snapshot& full) {
  REQUIRE(view.goroutines.size() == full.goroutines.size());
  for (const auto& r : full.goroutines) {
    auto it = view.goroutines.find(r.id);
    REQUIRE(it != view.goroutines.end());
    const goroutine_record& v = it->second.record;
    INFO("goroutine " << r.id);
    CHECK(v.state == r.state);
    CHECK(v.reason == r.reason);
    CHECK(v.parent_id == r.parent_id);
    CHECK(v.created_ns == r.created_ns);
    CHECK(v.labels == r.labels);
    if (r.state != goroutine_state::running) {
      CHECK(it->second.stack == full.stack_of(r));
      CHECK(v.wait_since_ns == r.wait_since_ns);
      CHECK(v.resumes == r.resumes);
      CHECK(v.running_ns == r.running_ns);
      CHECK(v.runnable_ns == r.runnable_ns);
    }
  }
}

task<void> parked_at_recv(chan<int> c) {
  while (auto v = co_await c.recv()) {
    if (*v < 0) co_return;
    this_goroutine::set_label("got", std::to_string(*v));
  }
}

task<void> with_tracked(testing::tracked t, chan<int> c) {
  (void)t;
  co_await c.recv();
}

TEST_CASE("snapshot delta: one worker, each change reported once, the state equals a full one") {
  runtime rt({.workers = 1, .manual_clock = true});
  rt.run([](runtime& rt) -> task<void> {
    constexpr int n = 1000;
    std::vector<chan<int>> links;
    std::vector<std::uint64_t> ids;
    for (int i = 0; i < n; ++i) {
      links.push_back(make_chan<int>(1));
      ids.push_back(go(parked_at_recv(links.back())));
    }
    co_await yield();  // every one parks

    change_cursor cursor;
    delta_view view;
    snapshot_delta d0 = rt.take_snapshot_delta(cursor);
    CHECK(d0.full);
    CHECK(d0.changes.goroutines.size() == n + 1);
    view.apply(d0);

    // Nothing happened but main running: only main is listed.
    snapshot_delta d1 = rt.take_snapshot_delta(cursor);
    CHECK_FALSE(d1.full);
    REQUIRE(d1.changes.goroutines.size() == 1);
    CHECK(d1.changes.goroutines[0].id == 1);
    CHECK(d1.changes.goroutines[0].state == goroutine_state::running);
    CHECK(d1.exited.empty());
    CHECK(d1.changes.max_hold_ns == 0);  // no shard lock taken
    view.apply(d1);

    // Three change: one is woken and labels itself, one ends, one is spawned.
    co_await links[10].send(7);
    co_await links[20].send(-1);
    const std::uint64_t fresh = go(parked_at_recv(make_chan<int>()));
    co_await yield();  // they run and park (or end)
    snapshot_delta d2 = rt.take_snapshot_delta(cursor);
    std::unordered_set<std::uint64_t> changed;
    for (const auto& r : d2.changes.goroutines) changed.insert(r.id);
    CHECK(changed == std::unordered_set<std::uint64_t>{1, ids[10], fresh});
    CHECK(d2.exited == std::vector<std::uint64_t>{ids[20]});
    view.apply(d2);
    check_same(view, rt.take_snapshot());  // a full snapshot in between changes nothing
    const auto& woken = view.goroutines.at(ids[10]).record;
    REQUIRE(woken.labels);
    CHECK(*find_label(*woken.labels, "got") == "7");
    CHECK(woken.resumes == 2);

    // The same after a refresh, and the goroutine that ended is not reported twice.
    snapshot_delta d3 = rt.take_snapshot_delta(cursor, true);
    CHECK(d3.full);
    view.apply(d3);
    snapshot_delta d4 = rt.take_snapshot_delta(cursor);
    CHECK(d4.changes.goroutines.size() == 1);
    CHECK(d4.exited.empty());
    view.apply(d4);
    check_same(view, rt.take_snapshot());
    CHECK(view.unknown_exits == 0);
    CHECK(view.duplicate_changes == 0);

    // A second cursor gets full snapshots while the first follows the changes.
    change_cursor other;
    CHECK(rt.take_snapshot_delta(other).full);
    CHECK(rt.take_snapshot_delta(other).full);
    for (int i = 0; i < n; ++i) {
      if (i != 20) co_await links[i].send(-1);
    }
  }(rt));
}

task<void> parks_inside(chan<int> c) {
  co_await c.recv();
}

// Parks at four places: its root at two lines, in a frame it calls, its root at another line.
task<void> moves_frames(chan<int> c) {
  co_await c.recv();
  co_await parks_inside(c);
  co_await c.recv();
  co_await c.recv();
}

TEST_CASE("snapshot delta: kept frames: a goroutine whose frames did not move has no stack") {
  runtime rt({.workers = 1, .manual_clock = true});
  rt.run([](runtime& rt) -> task<void> {
    auto still = make_chan<int>(1);
    auto moving = make_chan<int>(1);
    const std::uint64_t parked = go(parked_at_recv(still));
    const std::uint64_t mover = go(moves_frames(moving));
    co_await yield();
    change_cursor cursor;
    cursor.set_keep_frames(true);
    delta_view view;
    // The record of `id` in `d`: whether it kept its frames.
    auto kept_in = [](const snapshot_delta& d, std::uint64_t id) {
      for (const auto& r : d.changes.goroutines) {
        if (r.id == id) return r.stack == frames_kept;
      }
      FAIL("goroutine " << id << " not in the delta");
      return false;
    };
    auto step = [&](bool refresh = false) {
      snapshot_delta d = rt.take_snapshot_delta(cursor, refresh);
      view.apply(d);
      check_same(view, rt.take_snapshot());
      return d;
    };
    const snapshot_delta d0 = step();
    CHECK(d0.full);
    CHECK(view.kept == 0);  // a full one has every stack

    co_await still.send(1);   // parks again at the same line: its frames did not move
    co_await moving.send(1);  // into parks_inside: a frame pushed
    co_await yield();
    const snapshot_delta d1 = step();
    CHECK(kept_in(d1, parked));
    CHECK_FALSE(kept_in(d1, mover));
    CHECK(view.goroutines.at(mover).stack.size() == 2);

    co_await moving.send(2);  // out of parks_inside (popped), parked at its root's next line
    auto other = make_chan<int>(1);
    const std::uint64_t fresh = go(parked_at_recv(other));
    co_await yield();
    const snapshot_delta d2 = step();
    CHECK_FALSE(kept_in(d2, mover));
    CHECK_FALSE(kept_in(d2, fresh));  // new to the cursor
    CHECK(view.goroutines.at(mover).stack.size() == 1);

    co_await moving.send(3);  // the same frame, at the next co_await: kept, innermost_at moved
    co_await yield();
    const snapshot_delta d3 = step();
    CHECK(kept_in(d3, mover));

    const snapshot_delta d4 = step(/*refresh=*/true);  // full: whole stacks, bits cleared
    CHECK(d4.full);
    co_await still.send(4);
    co_await yield();
    const snapshot_delta d5 = step();
    CHECK(kept_in(d5, parked));  // bits cleared by the full one
    CHECK(view.kept_unknown == 0);
    CHECK(view.kept >= 4);

    // A cursor that does not keep frames gets every stack.
    cursor.set_keep_frames(false);
    co_await still.send(5);
    co_await yield();
    const int kept_before = view.kept;
    step();
    CHECK(view.kept == kept_before);
    still.close();
    other.close();
    co_await moving.send(6);
    co_await yield();
  }(rt));
}

TEST_CASE("snapshot delta: a goroutine ending while listed loses its frame at once") {
  testing::tracked::reset();
  runtime rt({.workers = 1, .manual_clock = true});
  rt.run([](runtime& rt) -> task<void> {
    change_cursor cursor;
    auto c = make_chan<int>(1);
    const std::uint64_t id = go(with_tracked(testing::tracked{}, c));
    co_await yield();
    rt.take_snapshot_delta(cursor);       // full: it is waiting
    co_await c.send(1);                   // listed when woken ...
    co_await yield();                     // ... and ends while listed
    CHECK(testing::tracked::alive == 0);  // its arguments are gone already
    snapshot_delta d = rt.take_snapshot_delta(cursor);
    CHECK(d.exited == std::vector<std::uint64_t>{id});
    CHECK(rt.take_snapshot_delta(cursor).exited.empty());
  }(rt));
  CHECK(testing::tracked::alive == 0);
}

TEST_CASE("snapshot delta: a cursor that goes away stops tracking, the next one starts full") {
  runtime rt({.workers = 1, .manual_clock = true});
  rt.run([](runtime& rt) -> task<void> {
    auto c = make_chan<int>(4);
    for (int i = 0; i < 4; ++i) go(parked_at_recv(c));
    co_await yield();
    {
      change_cursor first;
      rt.take_snapshot_delta(first);
      co_await c.send(1);  // listed for `first`, which never takes it
      co_await yield();
    }
    change_cursor second;
    snapshot_delta d = rt.take_snapshot_delta(second);
    CHECK(d.full);
    CHECK(d.changes.goroutines.size() == 5);
    co_await c.send(2);
    co_await yield();
    snapshot_delta next = rt.take_snapshot_delta(second);
    CHECK(next.changes.goroutines.size() == 2);  // main and the one woken
    c.close();
    co_await yield();
  }(rt));
}

// Under churn on two workers: the state kept from deltas never loses an anchor, never hears of
// an exit twice or of a goroutine it does not know, and once the churn stops it equals a full
// snapshot. The token ring (snapshot_consistency_test) read from deltas is in one place.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int deltas_to_take = 300;
#else
constexpr int deltas_to_take = 3000;
#endif

task<void> churn_leaf(int yields, wait_group& live) {
  for (int i = 0; i < yields; ++i) co_await yield();
  live.done();
}

task<void> yield_inside() {
  co_await yield();
}

task<void> churn(int n, chan<int> wake, wait_group& live) {
  for (int i = 0; i < n % 3; ++i) co_await yield();
  if (n % 7 == 0) co_await yield_inside();  // frames pushed and popped (for kept frames)
  if (n % 4 == 0) {
    live.add(1);
    go(churn_leaf(1, live));
  }
  if (n % 5 == 0) co_await wake.send(n);  // wakes (and relabels) a parked_at_recv goroutine
  live.done();
}

void churn_case(bool keep_frames) {
  runtime rt({.workers = 2});
  std::atomic<bool> churning{true};
  event settled, compared;
  std::vector<std::uint64_t> anchors;
  delta_view view;
  int missing_anchors = 0;
  std::size_t largest = 0;
  snapshot full_after;
  std::thread sampler;
  rt.run([](runtime& rt, std::atomic<bool>& churning, event& settled, event& compared,
            std::vector<std::uint64_t>& anchors, delta_view& view, int& missing_anchors,
            std::size_t& largest, snapshot& full_after, std::thread& sampler,
            bool keep_frames) -> task<void> {
    auto wake = make_chan<int>();
    for (int i = 0; i < 50; ++i) anchors.push_back(go(parked_at_recv(wake)));
    sampler = std::thread([&] {
      change_cursor cursor;
      cursor.set_keep_frames(keep_frames);
      for (int taken = 0; taken < deltas_to_take; ++taken) {
        snapshot_delta d = rt.take_snapshot_delta(cursor, taken % 100 == 50);
        largest = std::max(largest, d.changes.goroutines.size());
        view.apply(d);
        for (auto a : anchors) {
          if (!view.goroutines.count(a)) ++missing_anchors;
        }
      }
      churning = false;
      // Main waits for every churner, then parks on `compared`: nothing runs. The deltas must
      // bring the view to what a full snapshot shows.
      while (!settled.is_set()) std::this_thread::yield();
      for (;;) {  // until the last woken anchors and main have parked
        const snapshot s = rt.take_snapshot();
        if (std::all_of(s.goroutines.begin(), s.goroutines.end(),
                        [](const auto& r) { return r.state == goroutine_state::waiting; })) {
          break;
        }
        std::this_thread::yield();
      }
      view.apply(rt.take_snapshot_delta(cursor));
      full_after = rt.take_snapshot();
      compared.set();
    });
    wait_group live;
    for (int n = 0; churning.load(); ++n) {
      live.add(1);
      go(churn(n, wake, live));
      if (n % 8 == 0) co_await yield();
    }
    co_await live.wait();
    settled.set();
    co_await compared.wait();
  }(rt, churning, settled, compared, anchors, view, missing_anchors, largest, full_after, sampler,
                              keep_frames));
  sampler.join();
  CHECK(missing_anchors == 0);
  CHECK(view.duplicate_changes == 0);
  CHECK(view.changed_and_exited == 0);
  CHECK(view.kept_unknown == 0);
  CHECK((view.kept > 0) == keep_frames);
  CHECK(largest > 1);  // churn was really going on
  check_same(view, full_after);
}

TEST_CASE("snapshot delta: exact while goroutines spawn, wake and exit on every worker") {
  churn_case(false);
}

TEST_CASE("snapshot delta: kept frames exact while goroutines spawn, wake and exit") {
  churn_case(true);
}

// The ring of snapshot_consistency_test read from deltas: each member labels itself with the
// token value it last received, so at any instant the values break in exactly one place. A delta
// that missed a change, or read a member after the instant, shows more.
constexpr int ring_size = 32;
constexpr int ring_deltas = deltas_to_take / 3;

int token_places(const delta_view& view, const std::vector<std::uint64_t>& ring) {
  return testing::ring_breaks(ring, [&](std::uint64_t id) -> const label_ptr* {
    auto it = view.goroutines.find(id);
    return it == view.goroutines.end() ? nullptr : &it->second.record.labels;
  });
}

TEST_CASE("snapshot delta: exact at the instant: the ring's token is in one place in every delta") {
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
      for (int k = 0; k < 100; ++k) go(parked_at_recv(make_chan<int>()));
      ring.push_back(go(testing::ring_member(links[i], links[(i + 1) % ring_size], done)));
    }
    sampler = std::thread([&rt, &done, &ring, &judged, &wrong] {
      change_cursor cursor;
      delta_view view;
      for (int taken = 0; judged < ring_deltas && taken < 100 * ring_deltas; ++taken) {
        view.apply(rt.take_snapshot_delta(cursor));
        const int places = token_places(view, ring);
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
  MESSAGE(judged << " deltas judged");
  CHECK(judged > 0);
  CHECK(wrong == 0);
}

}  // namespace
}  // namespace gprofid
