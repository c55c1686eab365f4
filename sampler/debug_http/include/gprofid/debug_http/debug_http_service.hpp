// The debug service over HTTP: Go's goroutine profile endpoints and our snapshot, for
// `go tool pprof http://...`, Grafana Alloy's pyroscope.scrape and Parca (docs/fleet.md).
//
//   /debug/pprof/goroutine          a pprof profile (gzip), labels goid, parent_goid, state, ...
//   /debug/pprof/goroutine?debug=1  Go's count-per-stack text
//   /debug/pprof/goroutine?debug=2  Go's traceback text (the SIGQUIT dump)
//   /debug/gprof-id/snapshot        one sample as a v1 JSON Lines recording
//
// A separate library (gprofid::gprofid_http) because cpp-httplib brings OpenSSL, zlib and brotli
// with it, which a program linked with gprofid::gprofid alone must not get. Started by the
// auto-start hook when GPROFID_DEBUG_HTTP is set, or by
// rt.add_service(std::make_unique<debug_http_service>(options)).
//
// It serves on its own threads (one listening, a few serving), which only take snapshots, so it
// answers while every worker is stuck. Nothing it serves runs code, changes the program or
// names a file; requests, connections and snapshots are bounded (debug_http_options).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "gprofid/recorder/rate_limit.hpp"
#include "gprofid/runtime.hpp"

namespace gprofid {

struct debug_http_options {
  // An IP address (no name is resolved in the program); 0.0.0.0 or :: serve every interface.
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port, see debug_http_service::port()
  // Requests served at once, and accepted connections waiting for one of them; more are
  // answered 503 at once, without reading them.
  std::size_t max_active = 4;
  std::size_t max_queued = 16;
  // A request (line, headers and body) larger than this is refused (400, or 413 for a body).
  std::size_t max_request_bytes = 16 * 1024;
  // The whole request must arrive within this long; an answer not taken in this long is dropped.
  std::int64_t request_timeout_ns = 2'000'000'000;
  std::int64_t send_timeout_ns = 5'000'000'000;
  // Every endpoint takes a snapshot; beyond this rate requests are answered 429.
  rate_limit snapshots{};
  // Print "gprof-id: debug HTTP on http://HOST:PORT/debug/pprof/ (pid N)" on stderr at start.
  bool announce = false;
};

// Parses GPROFID_DEBUG_HTTP's value: "HOST:PORT", "[V6]:PORT" or "PORT" (on 127.0.0.1); HOST
// must be an IP address. On failure returns nullopt and sets `error` to a one-line reason.
std::optional<debug_http_options> parse_debug_http_address(std::string_view text,
                                                           std::string& error);

class debug_http_service final : public runtime_service {
 public:
  explicit debug_http_service(debug_http_options options = {});
  ~debug_http_service() override;  // stop()
  debug_http_service(const debug_http_service&) = delete;
  debug_http_service& operator=(const debug_http_service&) = delete;

  // Binds and listens, then serves on its own thread. Throws std::system_error (what(): the
  // address and the reason) if it cannot bind.
  void start(runtime& rt) override;
  // Stops listening, lets requests in progress finish (each bounded by the timeouts), joins
  // every thread. Idempotent.
  void stop() override;

  // The port it listens on (the one the system chose when options.port was 0); 0 before start.
  int port() const noexcept { return port_; }

 private:
  struct server;
  debug_http_options options_;
  std::unique_ptr<server> server_;
  int port_ = 0;
};

}  // namespace gprofid

// Defined by gprofid::gprofid_http (auto_start.cpp), weak in the recorder's auto-start hook:
// starts the HTTP service on `rt` from GPROFID_DEBUG_HTTP, reporting problems on stderr.
extern "C" void gprofid_debug_http_start(gprofid::runtime* rt);
