// deadlock: a bank whose transfers lock the source account then the destination. Two transfers
// in opposite directions deadlock (each holds one mutex and waits for the other), and audits of
// those accounts pile up behind them, while transfers between other accounts keep working.
#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "gprofid/channel.hpp"
#include "gprofid/mutex.hpp"
#include "gprofid/runtime.hpp"
#include "gprofid/sleep.hpp"
#include "gprofid/this_goroutine.hpp"
#include "gprofid/wait_group.hpp"
#include "workloads/workload.hpp"

namespace gprofid::workloads {
namespace {

constexpr workload_option options[] = {
    {"pairs", option_kind::count, "1", "pairs of transfers that deadlock"},
    {"audit_every", option_kind::duration, "100ms",
     "how often an audit of a deadlocked account starts (and gets stuck)"},
    {"healthy", option_kind::count, "4", "goroutines making transfers that do not deadlock"},
    {"hold_time", option_kind::duration, "5ms", "how long a transfer holds its first lock"},
};

struct account {
  mutex m;
  std::int64_t balance = 1000;
};

// Accounts live as long as any goroutine that uses them.
using bank = std::vector<std::unique_ptr<account>>;

// `crossing`, for the two transfers of a pair that deadlock: each waits there, holding its
// first lock, until the other holds its own, so that they deadlock however late one of them runs
// (the hold alone is a race a loaded machine can lose, and then there is no deadlock).
task<void> transfer(std::shared_ptr<bank> accounts, std::size_t from, std::size_t to,
                    std::int64_t amount, std::chrono::nanoseconds hold,
                    std::shared_ptr<wait_group> crossing = nullptr) {
  auto& a = *(*accounts)[from];
  auto& b = *(*accounts)[to];
  auto first = co_await a.m.scoped_lock();
  co_await sleep_for(hold);  // e.g. a fraud check while holding the source account
  if (crossing) {
    crossing->done();
    co_await crossing->wait();
  }
  auto second = co_await b.m.scoped_lock();
  a.balance -= amount;
  b.balance += amount;
}

task<void> audit(std::shared_ptr<bank> accounts, std::size_t which) {
  this_goroutine::set_label("audit", std::to_string(which));
  auto guard = co_await (*accounts)[which]->m.scoped_lock();
}

// Always locks in a fixed order for its own pair of accounts, so it never deadlocks.
task<void> teller(std::shared_ptr<bank> accounts, std::size_t a, std::size_t b, chan<bool> stop,
                  std::chrono::nanoseconds hold) {
  this_goroutine::set_label("teller", std::to_string(a / 2));
  while (!stop.closed()) {
    co_await transfer(accounts, a, b, 1, hold);
    co_await transfer(accounts, a, b, -1, hold);
  }
}

task<void> auditor(std::shared_ptr<bank> accounts, std::size_t stuck_accounts, chan<bool> stop,
                   std::chrono::nanoseconds every) {
  for (std::size_t n = 0; !stop.closed(); ++n) {
    go(audit(accounts, (n % stuck_accounts)));
    co_await sleep_for(every);
  }
}

task<void> deadlock(workload_context ctx) {
  auto stop = stop_channel(ctx.stop);
  const auto pairs = static_cast<std::size_t>(ctx.args.count("pairs"));
  const auto healthy = static_cast<std::size_t>(ctx.args.count("healthy"));
  const auto hold = ctx.args.duration("hold_time");
  auto accounts = std::make_shared<bank>();
  for (std::size_t i = 0; i < 2 * (pairs + healthy); ++i) {
    accounts->push_back(std::make_unique<account>());
  }
  // Accounts 2p and 2p+1: transfers in both directions at once, each taking its first lock.
  for (std::size_t p = 0; p < pairs; ++p) {
    auto crossing = std::make_shared<wait_group>();
    crossing->add(2);
    go(transfer(accounts, 2 * p, 2 * p + 1, 10, hold, crossing));
    go(transfer(accounts, 2 * p + 1, 2 * p, 20, hold, crossing));
  }
  for (std::size_t h = 0; h < healthy; ++h) {
    const std::size_t a = 2 * (pairs + h);
    go(teller(accounts, a, a + 1, stop, hold));
  }
  if (pairs > 0) go(auditor(accounts, 2 * pairs, stop, ctx.args.duration("audit_every")));
  co_await stop.recv();
}

}  // namespace

const workload& deadlock_workload() noexcept {
  static const workload w{"deadlock",
                          "transfers take two account mutexes in opposite order and stay stuck; "
                          "audits pile up behind them, other transfers keep going",
                          options, deadlock};
  return w;
}

}  // namespace gprofid::workloads
