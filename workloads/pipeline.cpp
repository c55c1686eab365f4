// pipeline: source -> parse (N goroutines) -> enrich -> batch sink, joined by channels. Enrich
// asks a lookup service with a deadline (select on the reply and after()), the sink flushes on
// size or on a timer, and stopping closes the source so every stage drains and exits in turn.
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "gprofid/channel.hpp"
#include "gprofid/runtime.hpp"
#include "gprofid/select.hpp"
#include "gprofid/sleep.hpp"
#include "gprofid/this_goroutine.hpp"
#include "gprofid/timer_channel.hpp"
#include "gprofid/wait_group.hpp"
#include "workloads/workload.hpp"

namespace gprofid::workloads {
namespace {

constexpr workload_option options[] = {
    {"item_every", option_kind::duration, "2ms", "time between items from the source"},
    {"parsers", option_kind::count, "3", "goroutines in the parse stage"},
    {"lookup_timeout", option_kind::duration, "50ms", "enrich's deadline for a lookup"},
    {"slow_ratio", option_kind::ratio, "0.2", "fraction of lookups that are slow"},
    {"slow_time", option_kind::duration, "150ms", "how long a slow lookup takes"},
    {"batch", option_kind::count, "32", "items per batch written by the sink"},
    {"flush_every", option_kind::duration, "100ms", "the sink flushes a partial batch this often"},
};

struct item {
  std::uint64_t id = 0;
  std::string payload;
  bool enriched = false;
};

struct lookup {
  std::uint64_t key = 0;
  chan<std::string> reply;  // buffered: an abandoned reply never blocks the service
};

task<void> source(chan<item> out, chan<bool> stop, std::chrono::nanoseconds every) {
  for (std::uint64_t id = 1;; ++id) {
    item it{id, "event-" + std::to_string(id)};
    // Cancellation: stop wins over a blocked send; the idle tick paces the source.
    const int fired = co_await select(send_case(out, std::move(it)), recv_case(stop));
    if (fired == 1) break;
    if (co_await select(recv_case(stop), recv_case(after(every))) == 0) break;
  }
  out.close();
}

task<void> parse(chan<item> in, chan<item> out, std::shared_ptr<wait_group> parsers) {
  while (auto it = co_await in.recv()) {
    spin_for(std::chrono::microseconds(50));
    it->payload += ":parsed";
    co_await out.send(std::move(*it));
  }
  parsers->done();
}

// Closes `out` once every parser has finished.
task<void> close_after(std::shared_ptr<wait_group> parsers, chan<item> out) {
  co_await parsers->wait();
  out.close();
}

task<void> lookup_service(chan<lookup> requests, double slow_ratio,
                          std::chrono::nanoseconds slow_time) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  while (auto req = co_await requests.recv()) {
    co_await sleep_for(u(rng) < slow_ratio ? slow_time : std::chrono::milliseconds(1));
    req->reply.try_send("region-" + std::to_string(req->key % 5));
  }
}

// Empty when the lookup timed out or the pipeline is being cancelled.
task<std::optional<std::string>> lookup_with_deadline(chan<lookup> service, std::uint64_t key,
                                                      std::chrono::nanoseconds deadline,
                                                      chan<bool> cancel) {
  auto reply = make_chan<std::string>(1);
  auto timeout = after(deadline);  // one deadline for queueing and for the answer
  lookup request{key, reply};      // named: see query_database in http.cpp (GCC 12)
  std::optional<std::string> value;
  if (co_await select(send_case(service, std::move(request)), recv_case(timeout),
                      recv_case(cancel)) != 0) {
    co_return value;
  }
  // On a timeout or cancellation the late reply lands in the buffer and is dropped.
  co_await select(recv_case(reply, value), recv_case(timeout), recv_case(cancel));
  co_return value;
}

task<void> enrich(chan<item> in, chan<item> out, chan<lookup> service,
                  std::chrono::nanoseconds deadline, chan<bool> cancel) {
  while (auto it = co_await in.recv()) {
    // Once cancelled, items drain through unenriched instead of waiting on lookups.
    if (auto region = co_await lookup_with_deadline(service, it->id, deadline, cancel)) {
      it->payload += ":" + *region;
      it->enriched = true;
    }
    co_await out.send(std::move(*it));
  }
  out.close();
  service.close();
}

task<void> sink(chan<item> in, std::size_t batch_size, std::chrono::nanoseconds flush_every,
                chan<bool> finished) {
  std::vector<item> batch;
  std::uint64_t written = 0;
  auto flush = [&] {
    written += batch.size();
    batch.clear();
  };
  auto timer = after(flush_every);
  while (true) {
    std::optional<item> it;
    const int fired = co_await select(recv_case(in, it), recv_case(timer));
    if (fired == 1) {
      flush();
      timer = after(flush_every);
      continue;
    }
    if (!it) break;  // input closed and drained
    batch.push_back(std::move(*it));
    if (batch.size() >= batch_size) flush();
  }
  flush();
  finished.close();
}

task<void> pipeline(workload_context ctx) {
  auto stop = stop_channel(ctx.stop);
  auto raw = make_chan<item>(16);
  auto parsed = make_chan<item>(16);
  auto enriched = make_chan<item>(16);
  auto service = make_chan<lookup>(4);
  auto finished = make_chan<bool>();
  const auto parsers = std::max<std::int64_t>(1, ctx.args.count("parsers"));
  auto parse_group = std::make_shared<wait_group>();
  parse_group->add(parsers);
  go(lookup_service(service, ctx.args.ratio("slow_ratio"), ctx.args.duration("slow_time")));
  go(sink(enriched, static_cast<std::size_t>(std::max<std::int64_t>(1, ctx.args.count("batch"))),
          ctx.args.duration("flush_every"), finished));
  go(enrich(parsed, enriched, service, ctx.args.duration("lookup_timeout"), stop));
  for (std::int64_t i = 0; i < parsers; ++i) go(parse(raw, parsed, parse_group));
  go(close_after(parse_group, parsed));
  go(source(raw, stop, ctx.args.duration("item_every")));
  co_await finished.recv();  // the sink drained everything after the source stopped
}

}  // namespace

const workload& pipeline_workload() noexcept {
  static const workload w{"pipeline",
                          "source -> parse -> enrich -> sink over channels; select with after() "
                          "timeouts, a slow lookup service, cancellation that drains every stage",
                          options, pipeline};
  return w;
}

}  // namespace gprofid::workloads
