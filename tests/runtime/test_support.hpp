// Helpers shared by the runtime tests.
#pragma once

#include <algorithm>
#include <atomic>
#include <coroutine>
#include <cstdint>
#include <string>
#include <vector>

#include "gprofid/channel.hpp"
#include "gprofid/detail/park.hpp"
#include "gprofid/labels.hpp"
#include "gprofid/snapshot.hpp"
#include "gprofid/task.hpp"
#include "gprofid/this_goroutine.hpp"

namespace gprofid::testing {

// Parks the goroutine for good, as a goroutine blocked on a channel nobody sends on would be.
struct park_forever {
  wait_reason why = wait_reason::select_no_cases;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) const noexcept { park(h, why); }
  void await_resume() const noexcept {}
};

// The wait-for graph object with this id in the snapshot, or null.
inline const wait_object* object_by_id(const snapshot& s, std::uint64_t id) {
  for (const auto& o : s.objects) {
    if (o.id == id) return &o;
  }
  return nullptr;
}

// The object the goroutine is blocked on in the snapshot, or null.
inline const wait_object* object_of(const snapshot& s, std::uint64_t goroutine) {
  const goroutine_record* r = s.find(goroutine);
  return r && r->blocked_on ? object_by_id(s, r->blocked_on) : nullptr;
}

// Counts live instances, so tests can prove every frame is destroyed exactly once.
struct tracked {
  // Atomic: frames run, and are destroyed, on every worker.
  static inline std::atomic<int> alive = 0;
  static inline std::atomic<int> destroyed = 0;
  static void reset() { alive = destroyed = 0; }
  tracked() { ++alive; }
  tracked(const tracked&) { ++alive; }
  ~tracked() {
    --alive;
    ++destroyed;
  }
};

// How many goroutines of a snapshot wait for `why`.
inline long count_waiting(const snapshot& s, wait_reason why) {
  return std::count_if(s.goroutines.begin(), s.goroutines.end(), [&](const auto& r) {
    return r.state == goroutine_state::waiting && r.reason == why;
  });
}

// A member of a ring that passes a token around (the exactness tests of snapshots and deltas):
// it labels itself "got" with the value it last received and sends the next one on, so at any
// instant the members' values break in exactly one place.
inline task<void> ring_member(chan<std::int64_t> in, chan<std::int64_t> out,
                              std::atomic<bool>& done) {
  for (;;) {
    auto v = co_await in.recv();
    this_goroutine::set_label("got", std::to_string(*v));
    if (done.load()) co_return;  // the others stay parked; the runtime frees them
    co_await out.send(*v + 1);
  }
}

// Places where the ring's trail of "got" values breaks (1 when a snapshot saw the token in one
// place); -1 if some member has no label yet. `labels_of(id)` is a member's labels as seen,
// null when the member is not seen at all.
template <class LabelsOf>
int ring_breaks(const std::vector<std::uint64_t>& ring, LabelsOf&& labels_of) {
  std::vector<std::int64_t> got;
  for (auto id : ring) {
    const label_ptr* labels = labels_of(id);
    const std::string* v = labels && *labels ? find_label(**labels, "got") : nullptr;
    if (!v) return -1;
    got.push_back(std::stoll(*v));
  }
  int breaks = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (got[(i + 1) % got.size()] != got[i] + 1) ++breaks;
  }
  return breaks;
}

}  // namespace gprofid::testing
