// What a snapshot walk needs besides the registry: the capture exiting goroutines record into,
// the visible state of a run status, the frames of a chain, and the interning of stacks by the
// hash push_frame keeps (docs/snapshot.md, "Cost"). Shared by the full walk (snapshot.cpp) and
// the delta (snapshot_delta.cpp).
#pragma once

#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

#include "gprofid/detail/goroutine.hpp"
#include "gprofid/runtime.hpp"
#include "gprofid/snapshot.hpp"

namespace gprofid {

// A snapshot in progress. Goroutines that exit while it runs record themselves into `exited`
// first (as Go's concurrent goroutine profile has the scheduler do), so that none alive at the
// snapshot instant is missed.
struct runtime::capture {
  std::uint64_t epoch = 0;
  std::int64_t instant_ns = 0;
  // Goroutines that recorded themselves before exiting or changing state; guarded by capture_m_.
  std::vector<std::pair<goroutine_record, stack_trace>> exited;
};

namespace detail {

inline goroutine_state visible_state(run_status s) {
  switch (s) {
    case run_status::runnable:
      return goroutine_state::runnable;
    case run_status::running:
    case run_status::woken_while_parking:
      return goroutine_state::running;
    case run_status::waiting:
      return goroutine_state::waiting;
    case run_status::dead:
      break;
  }
  return goroutine_state::dead;
}

inline void collect_frames(const promise_base* p, stack_trace& frames) {
  for (; p; p = p->caller()) {
    frames.push_back({p->function, p->await_site.load(std::memory_order_relaxed), p->pc()});
  }
}

inline std::uint64_t hash_stack(const stack_trace& frames) {
  std::uint64_t h = 1469598103934665603ULL;
  auto mix = [&](std::uint64_t v) { h = (h ^ v) * 1099511628211ULL; };
  for (const auto& f : frames) {
    mix(reinterpret_cast<std::uintptr_t>(f.pc));
    mix(reinterpret_cast<std::uintptr_t>(f.call_site.file_name()));
    mix(f.call_site.line());
  }
  return h;
}

// Identical stacks share one entry, so 100k goroutines parked at one line cost one stack.
class stack_interner {
 public:
  explicit stack_interner(snapshot& s) : snap_(s) {}

  // The stack of the frames from `innermost` outwards, keyed by the hash push_frame keeps: a
  // stack seen before in this snapshot costs one lookup, whatever its depth; only a new key
  // walks the frames (and interns them by content, so equal stacks still share an entry).
  // The caller holds the goroutine's lock.
  std::uint32_t intern_stack_of(const goroutine* g, const promise_base* innermost) {
    // An exiting goroutine (innermost null, shown at its root) has popped every frame: its
    // outer hash is that of no frames, 0.
    const std::uint64_t key =
        g->outer_hash ^ frame_hash(g->depth, innermost->pc(),
                                   innermost->await_site.load(std::memory_order_relaxed));
    auto [it, fresh] = by_key_.try_emplace(key, 0);
    if (!fresh) return it->second;
    frames_.clear();
    collect_frames(innermost, frames_);
    it->second = intern(frames_);
    return it->second;
  }

  std::uint32_t intern(const stack_trace& frames) {
    auto h = hash_stack(frames);
    auto [it, fresh] = index_.try_emplace(h, static_cast<std::uint32_t>(snap_.stacks.size()));
    if (!fresh && snap_.stacks[it->second] == frames) return it->second;
    // A new stack, or (rarely) a hash collision, which keeps its own unshared entry.
    snap_.stacks.push_back(frames);
    return static_cast<std::uint32_t>(snap_.stacks.size() - 1);
  }

 private:
  snapshot& snap_;
  std::unordered_map<std::uint64_t, std::uint32_t> index_;   // content hash -> stack
  std::unordered_map<std::uint64_t, std::uint32_t> by_key_;  // push_frame's hash -> stack
  stack_trace frames_;
};

// An exiting goroutine has popped its root frame: it is shown at its root's last co_await.
inline const promise_base* innermost_of(const goroutine* g) {
  return g->innermost ? g->innermost : root_promise(*g);
}

}  // namespace detail
}  // namespace gprofid
