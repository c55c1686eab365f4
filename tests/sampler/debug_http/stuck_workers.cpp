// A program whose every worker thread is stuck in a system call, for the HTTP debug service's
// test: the service must answer from its own threads. Prints "stuck" once every worker is.
//
//   stuck_workers WORKERS                 the service as GPROFID_DEBUG_HTTP starts it
//   stuck_workers WORKERS PER_SECOND BURST [PARKED]
//       started by the program itself (one call), on an ephemeral port, with that snapshot
//       rate limit; PARKED more goroutines wait on a channel (to measure a scrape's cost)
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "gprofid/channel.hpp"
#include "gprofid/debug_http/debug_http_service.hpp"
#include "gprofid/runtime.hpp"
#include "gprofid/snapshot.hpp"
#include "gprofid/this_goroutine.hpp"

namespace {

int never[2];  // a pipe nobody writes: reading it blocks the calling thread for good
std::atomic<int> stuck{0};
std::atomic<int> parked{0};

void block_this_thread() {
  char c;
  while (::read(never[0], &c, 1) != 0) {
  }
}

gprofid::task<void> blocker() {
  stuck.fetch_add(1);
  block_this_thread();
  co_return;
}

gprofid::task<void> waiter(gprofid::chan<int> ready) {
  co_await ready.send(1);
  co_await gprofid::make_chan<int>().recv();  // parked for good: chan receive
}

gprofid::task<void> parked_one(gprofid::chan<int> c) {
  parked.fetch_add(1);
  co_await c.recv();
}

// Whether goroutine `id` is parked (waiting) at this instant.
bool parked_now(gprofid::runtime& rt, std::uint64_t id) {
  const gprofid::snapshot snap = rt.take_snapshot();
  const gprofid::goroutine_record* r = snap.find(id);
  return r && r->state == gprofid::goroutine_state::waiting;
}

gprofid::task<void> main_task(gprofid::runtime& rt, int workers, int extra) {
  auto hold = gprofid::make_chan<int>();  // held here: its waiters are parked, not leaked
  for (int i = 0; i < extra; ++i) gprofid::go(parked_one(hold));
  while (parked.load() < extra) co_await gprofid::yield();
  auto ready = gprofid::make_chan<int>();
  const std::uint64_t waiting = gprofid::go(waiter(ready));
  co_await ready.recv();
  // Parked on a channel nobody can send on, it stays parked; until then it may still be queued,
  // and the blockers would take every worker before it ran.
  while (!parked_now(rt, waiting)) co_await gprofid::yield();
  gprofid::this_goroutine::set_label("role", "blocker");
  for (int i = 1; i < workers; ++i) gprofid::go(blocker());
  while (stuck.load() < workers - 1) co_await gprofid::yield();
  std::printf("stuck\n");
  std::fflush(stdout);
  block_this_thread();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc == 3 || argc > 5) {
    std::fprintf(stderr, "usage: stuck_workers WORKERS [PER_SECOND BURST [PARKED]]\n");
    return 2;
  }
  const int workers = std::atoi(argv[1]);
  if (workers < 1 || ::pipe(never) != 0) return 2;
  gprofid::runtime rt({.workers = static_cast<std::size_t>(workers)});
  if (argc >= 4) {
    gprofid::debug_http_options o;
    o.snapshots = {.per_second = std::atof(argv[2]), .burst = std::atof(argv[3])};
    o.announce = true;
    rt.add_service(std::make_unique<gprofid::debug_http_service>(o));
  }
  rt.run(main_task(rt, workers, argc == 5 ? std::atoi(argv[4]) : 0));
  return 0;
}
