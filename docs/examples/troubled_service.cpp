// An example service with every kind of trouble `gprof-id diff --summary` names, written the
// way a new user would write it, and used by tests/cli/diagnosis_test.sh to check the summary:
//   - background goroutines: an accept loop, a shutdown waiter, a metrics ticker, main;
//   - a leak: every request starts a helper that waits for a reply nobody sends;
//   - one stuck request (labelled request_id=stuck-42) waiting on a mutex that a "migration"
//     goroutine holds while it waits for shutdown;
//   - a mutex deadlock between two transfers that lock two accounts in opposite order;
//   - healthy requests that come and go.
//
//   troubled_service [SECONDS]   (default 3)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <gprofid/channel.hpp>
#include <gprofid/event.hpp>
#include <gprofid/mutex.hpp>
#include <gprofid/net.hpp>
#include <gprofid/runtime.hpp>
#include <gprofid/sleep.hpp>
#include <gprofid/this_goroutine.hpp>
#include <gprofid/timer_channel.hpp>
#include <gprofid/wait_group.hpp>

using namespace std::chrono_literals;

namespace {

struct service {
  gprofid::event shutdown;
  gprofid::mutex schema;  // held by the migration until shutdown
  gprofid::mutex account_a;
  gprofid::mutex account_b;
  // The trouble is set up by handshakes, not by sleeps, so that it is there however late a
  // goroutine runs (a test on a loaded machine records it): the stuck request asks for the
  // schema only once the migration holds it, and each transfer asks for its second account
  // only once both hold their first.
  gprofid::event schema_held;
  gprofid::wait_group first_accounts_held;
  std::uint64_t flushes = 0;
};

gprofid::task<void> accept_loop(gprofid::tcp_listener listener) {
  gprofid::this_goroutine::set_label("role", "accept");
  while (true) {
    auto conn = co_await listener.accept();
    conn.close();
  }
}

gprofid::task<void> shutdown_waiter(std::shared_ptr<service> s) {
  gprofid::this_goroutine::set_label("role", "shutdown");
  co_await s->shutdown.wait();
}

gprofid::task<void> metrics(std::shared_ptr<service> s) {
  gprofid::this_goroutine::set_label("role", "ticker");
  gprofid::ticker tick(20ms);
  while (co_await tick.c().recv()) ++s->flushes;
}

// The leak: the reply channel lives only in this goroutine's frame once the handler returns.
gprofid::task<void> await_reply(int request, gprofid::chan<int> reply) {
  gprofid::this_goroutine::set_label("request_id", std::to_string(request));
  co_await reply.recv();
}

gprofid::task<void> handle_request(int request) {
  gprofid::this_goroutine::set_label("request_id", std::to_string(request));
  auto reply = gprofid::make_chan<int>();
  gprofid::go(await_reply(request, reply));
  co_await gprofid::sleep_for(2ms);
}

gprofid::task<void> migration(std::shared_ptr<service> s) {
  gprofid::this_goroutine::set_label("role", "migration");
  auto guard = co_await s->schema.scoped_lock();
  s->schema_held.set();
  co_await s->shutdown.wait();
}

gprofid::task<void> stuck_request(std::shared_ptr<service> s) {
  gprofid::this_goroutine::set_label("request_id", "stuck-42");
  co_await s->schema_held.wait();
  auto guard = co_await s->schema.scoped_lock();
}

gprofid::task<void> transfer(std::shared_ptr<service> s, bool a_first) {
  gprofid::this_goroutine::set_label("role", a_first ? "transfer-ab" : "transfer-ba");
  auto& first = a_first ? s->account_a : s->account_b;
  auto& second = a_first ? s->account_b : s->account_a;
  auto one = co_await first.scoped_lock();
  s->first_accounts_held.done();
  co_await s->first_accounts_held.wait();
  auto two = co_await second.scoped_lock();
}

gprofid::task<void> main_task(int seconds) {
  auto s = std::make_shared<service>();
  auto listener = gprofid::tcp_listener::listen("127.0.0.1", 0);
  gprofid::go(accept_loop(std::move(listener)));
  gprofid::go(shutdown_waiter(s));
  gprofid::go(metrics(s));
  gprofid::go(migration(s));
  s->first_accounts_held.add(2);
  gprofid::go(transfer(s, true));
  gprofid::go(transfer(s, false));
  const auto end = gprofid::timer_clock::now() + std::chrono::seconds(seconds);
  for (int request = 1; gprofid::timer_clock::now() < end; ++request) {
    gprofid::go(handle_request(request));
    if (request == 15) gprofid::go(stuck_request(s));
    co_await gprofid::sleep_for(20ms);
  }
  // Returning ends the program with everything still in place, as a Go main returning does.
}

}  // namespace

int main(int argc, char** argv) {
  const int seconds = argc > 1 ? std::atoi(argv[1]) : 3;
  gprofid::runtime rt;
  rt.run(main_task(seconds));
  return 0;
}
