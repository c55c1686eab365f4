#include <unordered_map>

#include "gprofid/clock.hpp"
#include "gprofid/runtime.hpp"
#include "registry.hpp"

namespace gprofid {
namespace {

goroutine_state visible_state(run_status s) {
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

std::uint64_t hash_stack(const stack_trace& frames) {
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
  std::unordered_map<std::uint64_t, std::uint32_t> index_;
};

}  // namespace

// A snapshot in progress. Goroutines that exit while it runs record themselves into `exited`
// first (as Go's concurrent goroutine profile has the scheduler do), so that none alive at the
// snapshot instant is missed.
struct runtime::capture {
  std::uint64_t epoch = 0;
  std::vector<std::pair<goroutine_record, stack_trace>> exited;  // guarded by capture_m_
};

goroutine_record runtime::make_record(const goroutine* g, stack_trace& frames) const {
  goroutine_record r;
  r.id = g->id;
  r.parent_id = g->parent_id;
  r.site = g->site;
  r.state = visible_state(g->status.load(std::memory_order_acquire));
  r.created_ns = g->created_ns;
  if (r.state == goroutine_state::waiting) {
    r.reason = g->reason;
    r.wait_since_ns = g->wait_since_ns;
  }
  r.labels = g->labels;
  r.resumes = g->resumes.load(std::memory_order_relaxed);
  r.running_ns = g->running_ns.load(std::memory_order_relaxed);
  r.runnable_ns = g->runnable_ns.load(std::memory_order_relaxed);
  // An exiting goroutine has popped its root frame: it is shown at its root's last co_await.
  const promise_base* p = g->innermost ? g->innermost : g->root_promise;
  for (; p; p = p->caller) {
    frames.push_back({p->function, p->await_site.load(std::memory_order_relaxed), p->pc});
  }
  return r;
}

void runtime::record_exiting(goroutine* g) {
  if (!registry_->walking()) return;
  std::lock_guard guard(capture_m_);
  if (!active_ || g->created_epoch >= active_->epoch) return;
  auto seen = g->profiled_epoch.load(std::memory_order_acquire);
  if (seen >= active_->epoch || !g->profiled_epoch.compare_exchange_strong(seen, active_->epoch)) {
    return;
  }
  auto& [rec, frames] = active_->exited.emplace_back();
  rec = make_record(g, frames);
  if (rec.state == goroutine_state::dead) rec.state = goroutine_state::running;
}

snapshot runtime::take_snapshot() {
  std::lock_guard one_at_a_time(snapshot_m_);
  capture cap;
  snapshot snap;
  {
    std::lock_guard guard(capture_m_);
    cap.epoch = registry_->begin_walk();
    snap.epoch = cap.epoch;
    snap.started_ns = monotonic_ns();
    active_ = &cap;
  }
  std::vector<goroutine*> all;
  all.reserve(registry_->live() + 64);
  snap.max_hold_ns = registry_->collect(all);
  snap.goroutines.reserve(all.size());

  stack_interner stacks(snap);
  stack_trace frames;
  for (goroutine* g : all) {
    if (g->created_epoch >= cap.epoch) continue;  // created after the instant
    frames.clear();
    goroutine_record r;
    {
      // Claim it under its lock: an exit cannot then slip between the claim and the read, and
      // a goroutine that recorded itself on the way out (or died before the instant) is skipped.
      std::lock_guard guard(g->lock);
      if (g->status.load(std::memory_order_acquire) == run_status::dead) continue;
      auto seen = g->profiled_epoch.load(std::memory_order_acquire);
      if (seen >= cap.epoch || !g->profiled_epoch.compare_exchange_strong(seen, cap.epoch)) {
        continue;
      }
      r = make_record(g, frames);
    }
    r.stack = stacks.intern(frames);
    snap.goroutines.push_back(std::move(r));
  }

  {
    std::lock_guard guard(capture_m_);
    active_ = nullptr;
  }
  for (auto& [rec, exited_frames] : cap.exited) {
    rec.stack = stacks.intern(exited_frames);
    snap.goroutines.push_back(std::move(rec));
  }
  registry_->end_walk();
  snap.finished_ns = monotonic_ns();
  return snap;
}

}  // namespace gprofid
