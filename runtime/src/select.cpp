#include "gprofid/select.hpp"

#include <functional>
#include <mutex>
#include <thread>

#include "gprofid/clock.hpp"
#include "gprofid/runtime.hpp"
#include "scheduler.hpp"

namespace gprofid::detail {
namespace {

// Per-thread xorshift64*: select only needs cheap, roughly uniform choices. A worker of a runtime
// with a select seed starts from the seed plus its index, so a run on one worker can be replayed;
// any other thread (or no seed) starts from the clock.
std::uint64_t rand_seed() noexcept {
  std::uint64_t x = 0;
  const worker_context* w = this_worker();
  const std::uint64_t seed = w ? w->sched->owner().select_seed() : 0;
  if (seed != 0) {
    x = seed + w->index;
  } else {
    x = static_cast<std::uint64_t>(monotonic_ns()) ^
        std::hash<std::thread::id>{}(std::this_thread::get_id());
  }
  x += 0x9e3779b97f4a7c15ULL;  // splitmix64 finaliser: spread nearby seeds apart
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x ? x : 1;
}

std::uint32_t random_below(std::uint32_t bound) noexcept {
  thread_local std::uint64_t s = rand_seed();
  s ^= s >> 12;
  s ^= s << 25;
  s ^= s >> 27;
  auto r = static_cast<std::uint32_t>((s * 0x2545f4914f6cdd1dULL) >> 32);
  return static_cast<std::uint32_t>((static_cast<std::uint64_t>(r) * bound) >> 32);
}

void unlock_all(select_frame& f) noexcept {
  for (std::size_t k = f.nlocks; k-- > 0;) f.locks[k]->lock.unlock();
}

wait_queue& queue_of(select_case& c) noexcept {
  return c.is_send ? c.core->sendq : c.core->recvq;
}

}  // namespace

bool select_begin(select_frame& f) {
  // Poll order: a uniformly random permutation (inside-out Fisher-Yates), so that among ready
  // cases each is equally likely to fire. Lock order: by address, each channel once, so that
  // selects sharing channels cannot deadlock.
  for (std::size_t i = 0; i < f.n; ++i) {
    select_case* c = f.cases[i];
    if (!c || !c->core) continue;
    std::uint32_t j = f.npoll ? random_below(static_cast<std::uint32_t>(f.npoll + 1)) : 0;
    f.order[f.npoll] = f.order[j];
    f.order[j] = static_cast<std::uint32_t>(i);
    ++f.npoll;

    std::size_t at = 0;
    while (at < f.nlocks && std::less<>{}(f.locks[at], c->core)) ++at;
    if (at < f.nlocks && f.locks[at] == c->core) continue;
    for (std::size_t k = f.nlocks; k > at; --k) f.locks[k] = f.locks[k - 1];
    f.locks[at] = c->core;
    ++f.nlocks;
  }

  for (std::size_t k = 0; k < f.nlocks; ++k) f.locks[k]->lock.lock();
  for (std::size_t p = 0; p < f.npoll; ++p) {
    const std::uint32_t i = f.order[p];
    goroutine* wake = nullptr;
    if (f.cases[i]->try_complete(wake)) {
      unlock_all(f);
      if (wake) ready(wake);
      f.chosen = static_cast<int>(i);
      return true;
    }
  }
  if (f.default_index >= 0) {
    unlock_all(f);
    f.chosen = f.default_index;
    return true;
  }
  if (!current_goroutine()) {
    unlock_all(f);
    require_goroutine("blocking select");
  }
  return false;
}

void select_park(select_frame& f, std::coroutine_handle<> h) noexcept {
  if (f.n == 0) return park(h, wait_reason::select_no_cases);
  if (f.nlocks == 0) {
    // Only nil channels: forever. The case set (all nil) still says so in the wait-for graph.
    return park(h, wait_reason::select, {wait_object_kind::select, &f});
  }
  goroutine* g = current_goroutine();
  for (std::size_t i = 0; i < f.n; ++i) {
    select_case* c = f.cases[i];
    if (!c || !c->core) continue;
    c->node.g = g;
    c->node.sel = &f.state;
    c->node.case_index = static_cast<int>(i);
    c->node.data = c->payload();
    queue_of(*c).push(&c->node);
  }
  f.parked = true;
  unlock_all(f);
  // After unlocking: keeps the critical sections short.
  park(h, wait_reason::select, {wait_object_kind::select, &f});
}

int select_end(select_frame& f) {
  if (f.parked) {
    f.chosen = f.state.winner.load(std::memory_order_acquire);
    // The winning node was unlinked by whoever completed it; channels that saw the select
    // already won may have dropped others. Unlink the rest, one channel at a time.
    for (std::size_t k = 0; k < f.nlocks; ++k) {
      chan_core* core = f.locks[k];
      std::lock_guard guard(core->lock);
      for (std::size_t i = 0; i < f.n; ++i) {
        select_case* c = f.cases[i];
        if (c && c->core == core && c->node.linked) queue_of(*c).remove(&c->node);
      }
    }
  }
  if (f.chosen != f.default_index) f.cases[f.chosen]->finish();
  return f.chosen;
}

}  // namespace gprofid::detail
