// http: a real HTTP/1.1 server on 127.0.0.1 (ephemeral port) on the runtime's poller, with
// client goroutines generating load over keep-alive connections. Every request is handled in
// its own goroutine labelled with method, path and request_id; a fraction are slow (waiting on
// a downstream "database" channel or on a timer) and stay visible across several samples.
#include <atomic>
#include <charconv>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>

#include "gprofid/channel.hpp"
#include "gprofid/net.hpp"
#include "gprofid/runtime.hpp"
#include "gprofid/select.hpp"
#include "gprofid/sleep.hpp"
#include "gprofid/this_goroutine.hpp"
#include "gprofid/timer_channel.hpp"
#include "workloads/workload.hpp"

namespace gprofid::workloads {
namespace {

constexpr workload_option options[] = {
    {"clients", option_kind::count, "8", "client goroutines, each on a keep-alive connection"},
    {"think_time", option_kind::duration, "20ms", "pause between a client's requests"},
    {"slow_ratio", option_kind::ratio, "0.1", "fraction of requests that are slow"},
    {"slow_time", option_kind::duration, "400ms", "how long a slow request waits downstream"},
    {"db_conns", option_kind::count, "4", "downstream database connections (goroutines)"},
    {"flush_every", option_kind::duration, "25ms", "period of the metrics ticker goroutine"},
};

// A query to the downstream database; the reply channel has room for the answer, so a
// database goroutine never blocks on a caller.
struct query {
  std::string text;
  std::chrono::nanoseconds cost{};
  chan<std::string> reply;
};

struct server_state {
  std::atomic<std::uint64_t> next_request{1};
  chan<query> db;
  std::chrono::nanoseconds slow_time{};
};

struct request {
  std::string method;
  std::string path;
};

std::span<const std::byte> bytes(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

// Reads until `buf` holds a complete header block; false at end of stream.
task<bool> read_headers(tcp_stream& conn, std::string& buf, std::size_t& header_end) {
  char chunk[4096];
  while ((header_end = buf.find("\r\n\r\n")) == std::string::npos) {
    const std::size_t n = co_await conn.read(std::as_writable_bytes(std::span(chunk)));
    if (n == 0) co_return false;
    buf.append(chunk, n);
    if (buf.size() > 64 * 1024) co_return false;  // not HTTP we speak
  }
  header_end += 4;
  co_return true;
}

task<std::optional<request>> read_request(tcp_stream& conn, std::string& buf) {
  std::size_t end = 0;
  if (!co_await read_headers(conn, buf, end)) co_return std::nullopt;
  // "GET /path HTTP/1.1"; the workload's clients send no bodies.
  const std::string_view head(buf.data(), end);
  const auto sp1 = head.find(' ');
  const auto sp2 = head.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos) co_return std::nullopt;
  request r{std::string(head.substr(0, sp1)), std::string(head.substr(sp1 + 1, sp2 - sp1 - 1))};
  buf.erase(0, end);
  co_return r;
}

task<std::string> query_database(const server_state& st, std::string text,
                                 std::chrono::nanoseconds cost) {
  auto reply = make_chan<std::string>(1);
  // Named, not a braced temporary: GCC 12 destroys an aggregate temporary in a co_await
  // operand twice.
  query q{std::move(text), cost, reply};
  co_await st.db.send(std::move(q));
  auto rows = co_await reply.recv();
  co_return rows.value_or("");
}

// One database connection: runs queries one at a time.
task<void> database_conn(chan<query> queries) {
  while (auto q = co_await queries.recv()) {
    spin_for(std::chrono::microseconds(20));
    co_await sleep_for(q->cost);
    q->reply.try_send("[{\"rows\":1}]");
  }
}

task<std::string> route(const request& r, const server_state& st) {
  using namespace std::chrono_literals;
  if (r.path.starts_with("/api/report")) {
    // Slow: an expensive downstream query.
    co_return co_await query_database(st, "SELECT report", st.slow_time);
  }
  if (r.path.starts_with("/api/export")) {
    // Slow: waits for a batch window (a timer).
    co_await sleep_for(st.slow_time);
    co_return "{\"export\":\"queued\"}";
  }
  if (r.path.starts_with("/api/users/")) {
    co_return co_await query_database(st, "SELECT user " + r.path.substr(11), 1ms);
  }
  if (r.path.starts_with("/api/orders")) {
    co_return co_await query_database(st, "SELECT orders", 2ms);
  }
  spin_for(30us);  // static file from memory
  co_return "console.log('hello');";
}

task<void> handle_request(request r, std::uint64_t id, std::shared_ptr<server_state> st,
                          chan<std::string> response) {
  this_goroutine::set_label("method", r.method);
  this_goroutine::set_label("path", r.path);
  this_goroutine::set_label("request_id", std::to_string(id));
  std::string status = "200 OK";
  std::string body;
  if (r.method != "GET") {
    status = "405 Method Not Allowed";
  } else {
    body = co_await route(r, *st);
  }
  response.try_send(
      "HTTP/1.1 " + status + "\r\nContent-Type: application/json\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\nX-Request-Id: " + std::to_string(id) + "\r\n\r\n" + body);
}

task<void> serve_connection(tcp_stream conn, std::shared_ptr<server_state> st) {
  this_goroutine::set_label("conn", std::to_string(conn.peer_port()));
  try {
    std::string buf;
    while (auto r = co_await read_request(conn, buf)) {
      auto response = make_chan<std::string>(1);
      go(handle_request(std::move(*r), st->next_request.fetch_add(1), st, response));
      auto text = co_await response.recv();
      if (!text) break;
      co_await conn.write_all(bytes(*text));
    }
  } catch (const std::system_error&) {
    // The client went away.
  }
}

// Healthy background: flushes metrics on every tick until stopped. It wakes every period, so
// none of its waits continues across samples for longer than that: never stuck.
task<void> metrics_flusher(chan<bool> stop, std::chrono::nanoseconds period,
                           std::shared_ptr<server_state> st) {
  ticker tick(period);
  std::uint64_t flushed = 0;
  while (co_await select(recv_case(tick.c()), recv_case(stop)) == 0) {
    flushed = st->next_request.load(std::memory_order_relaxed);
  }
  (void)flushed;
}

task<void> accept_loop(tcp_listener listener, std::shared_ptr<server_state> st) {
  while (true) go(serve_connection(co_await listener.accept(), st));
}

// Reads one response with a Content-Length body; false if the connection ended.
task<bool> read_response(tcp_stream& conn, std::string& buf) {
  std::size_t end = 0;
  if (!co_await read_headers(conn, buf, end)) co_return false;
  std::size_t length = 0;
  const std::string_view head(buf.data(), end);
  if (auto at = head.find("Content-Length: "); at != std::string_view::npos) {
    const char* p = head.data() + at + 16;
    std::from_chars(p, head.data() + head.size(), length);
  }
  char chunk[4096];
  while (buf.size() < end + length) {
    const std::size_t n = co_await conn.read(std::as_writable_bytes(std::span(chunk)));
    if (n == 0) co_return false;
    buf.append(chunk, n);
  }
  buf.erase(0, end + length);
  co_return true;
}

std::string pick_path(std::mt19937_64& rng, double slow_ratio) {
  std::uniform_real_distribution<double> u(0, 1);
  if (u(rng) < slow_ratio) return u(rng) < 0.5 ? "/api/report?month=5" : "/api/export";
  switch (rng() % 3) {
    case 0:
      return "/api/users/" + std::to_string(rng() % 1000);
    case 1:
      return "/api/orders?user=" + std::to_string(rng() % 1000);
    default:
      return "/static/app.js";
  }
}

task<void> client(std::int64_t index, std::uint16_t port, chan<bool> stop, double slow_ratio,
                  std::chrono::nanoseconds think) {
  this_goroutine::set_label("client", std::to_string(index));
  try {
    auto conn = co_await tcp_stream::connect("127.0.0.1", port);
    std::mt19937_64 rng(static_cast<std::uint64_t>(index) + 1);
    std::string buf;
    while (!stop.closed()) {
      const std::string req = "GET " + pick_path(rng, slow_ratio) +
                              " HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: gprof-id-load\r\n\r\n";
      co_await conn.write_all(bytes(req));
      if (!co_await read_response(conn, buf)) break;
      co_await sleep_for(think);
    }
  } catch (const std::system_error&) {
    // The server went away: the workload is stopping.
  }
}

task<void> http(workload_context ctx) {
  auto stop = stop_channel(ctx.stop);
  auto st = std::make_shared<server_state>();
  st->db = make_chan<query>(64);
  st->slow_time = ctx.args.duration("slow_time");
  for (std::int64_t i = 0; i < std::max<std::int64_t>(1, ctx.args.count("db_conns")); ++i) {
    go(database_conn(st->db));
  }
  auto listener = tcp_listener::listen("127.0.0.1", 0);
  const std::uint16_t port = listener.local_port();
  if (ctx.note)
    ctx.note("http workload: serving on http://127.0.0.1:" + std::to_string(port) + "/");
  go(accept_loop(std::move(listener), st));
  go(metrics_flusher(stop, ctx.args.duration("flush_every"), st));
  for (std::int64_t i = 0; i < ctx.args.count("clients"); ++i) {
    go(client(i, port, stop, ctx.args.ratio("slow_ratio"), ctx.args.duration("think_time")));
  }
  // Like a Go main returning: the server and its connections go down with the runtime.
  co_await stop.recv();
}

}  // namespace

const workload& http_workload() noexcept {
  static const workload w{"http",
                          "HTTP/1.1 server on 127.0.0.1 plus load-generating clients; each "
                          "request runs in a goroutine labelled method/path/request_id, some slow",
                          options, http};
  return w;
}

}  // namespace gprofid::workloads
