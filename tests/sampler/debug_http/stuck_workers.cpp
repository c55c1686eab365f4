// A program whose every worker thread is stuck in a system call, for the HTTP debug service's
// test: the service must answer from its own threads. Prints "stuck" once every worker is.
//
//   stuck_workers WORKERS                 the service as GPROFID_DEBUG_HTTP starts it
//   stuck_workers WORKERS PER_SECOND BURST  started by the program itself (one call), on an
//                                         ephemeral port, with that snapshot rate limit
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "gprofid/channel.hpp"
#include "gprofid/debug_http/debug_http_service.hpp"
#include "gprofid/runtime.hpp"
#include "gprofid/this_goroutine.hpp"

namespace {

int never[2];  // a pipe nobody writes: reading it blocks the calling thread for good
std::atomic<int> stuck{0};

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

gprofid::task<void> main_task(int workers) {
  auto ready = gprofid::make_chan<int>();
  gprofid::go(waiter(ready));
  co_await ready.recv();
  gprofid::this_goroutine::set_label("role", "blocker");
  for (int i = 1; i < workers; ++i) gprofid::go(blocker());
  // The other workers are all in blocker() once the count is reached, so the waiter, which
  // held one of them, has parked.
  while (stuck.load() < workers - 1) co_await gprofid::yield();
  std::printf("stuck\n");
  std::fflush(stdout);
  block_this_thread();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && argc != 4) {
    std::fprintf(stderr, "usage: stuck_workers WORKERS [PER_SECOND BURST]\n");
    return 2;
  }
  const int workers = std::atoi(argv[1]);
  if (workers < 1 || ::pipe(never) != 0) return 2;
  gprofid::runtime rt({.workers = static_cast<std::size_t>(workers)});
  if (argc == 4) {
    gprofid::debug_http_options o;
    o.snapshots = {.per_second = std::atof(argv[2]), .burst = std::atof(argv[3])};
    o.announce = true;
    rt.add_service(std::make_unique<gprofid::debug_http_service>(o));
  }
  rt.run(main_task(workers));
  return 0;
}
