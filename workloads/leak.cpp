// leak: a request handler that starts a helper goroutine to wait for a reply nobody ever sends,
// so every request leaves one goroutine blocked forever on a channel receive, beside healthy
// short-lived goroutines. Joined by ID across samples, the leaked goroutines never change.
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "gprofid/channel.hpp"
#include "gprofid/runtime.hpp"
#include "gprofid/sleep.hpp"
#include "gprofid/this_goroutine.hpp"
#include "workloads/workload.hpp"

namespace gprofid::workloads {
namespace {

constexpr workload_option options[] = {
    {"leak_every", option_kind::duration, "20ms", "how often a request leaks a goroutine"},
    {"max_leaks", option_kind::count, "0", "stop leaking after this many (0: no limit)"},
    {"healthy", option_kind::count, "4", "healthy goroutines running short tasks"},
    {"task_time", option_kind::duration, "5ms", "length of a healthy task"},
};

// The bug: the reply channel is created here but the code path that should send on it was
// lost, so the waiter blocks forever.
task<void> await_reply(std::uint64_t request, chan<int> reply) {
  this_goroutine::set_label("request", std::to_string(request));
  auto r = co_await reply.recv();
  (void)r;
}

task<void> handle_request(std::uint64_t request) {
  auto reply = make_chan<int>();
  go(await_reply(request, reply));
  co_await sleep_for(std::chrono::milliseconds(1));
}

task<void> leaker(chan<bool> stop, std::chrono::nanoseconds every, std::int64_t max_leaks) {
  for (std::uint64_t request = 1;
       max_leaks == 0 || request <= static_cast<std::uint64_t>(max_leaks); ++request) {
    go(handle_request(request));
    co_await sleep_for(every);
    if (stop.closed()) co_return;
  }
}

// Healthy: a goroutine per task, each of which finishes.
task<void> short_task(std::chrono::nanoseconds length) {
  spin_for(length / 10);
  co_await sleep_for(length);
}

task<void> healthy_loop(std::int64_t index, chan<bool> stop, std::chrono::nanoseconds length) {
  this_goroutine::set_label("healthy", std::to_string(index));
  while (!stop.closed()) {
    go(short_task(length));
    co_await sleep_for(length);
  }
}

task<void> leak(workload_context ctx) {
  auto stop = stop_channel(ctx.stop);
  const auto length = ctx.args.duration("task_time");
  for (std::int64_t i = 0; i < ctx.args.count("healthy"); ++i) go(healthy_loop(i, stop, length));
  go(leaker(stop, ctx.args.duration("leak_every"), ctx.args.count("max_leaks")));
  co_await stop.recv();
}

}  // namespace

const workload& leak_workload() noexcept {
  static const workload w{"leak",
                          "each request leaves a goroutine blocked forever on a channel nobody "
                          "sends on, beside healthy short-lived goroutines",
                          options, leak};
  return w;
}

}  // namespace gprofid::workloads
