// The debug service over HTTP, started by the program itself: Go's goroutine profile endpoints
// and our snapshot (debug_http_answers.hpp lists them; docs/fleet.md), for
// `go tool pprof http://...`, Grafana Alloy's pyroscope.scrape and Parca.
//
// Every program linked with gprofid::gprofid serves them when GPROFID_DEBUG_HTTP is set, through
// the plugin libgprofid_http_plugin.so. Linking gprofid::gprofid_http instead puts the transport
// (cpp-httplib, and with it OpenSSL, zlib and brotli) in the program, needs no plugin, and lets
// it start the service itself, with options:
//
//   rt.add_service(std::make_unique<debug_http_service>(options));
//
// It serves on its own threads (one listening, a few serving), which only take snapshots, so it
// answers while every worker is stuck. Nothing it serves runs code, changes the program or
// names a file; requests, connections and snapshots are bounded (debug_http_options).
#pragma once

#include "gprofid/recorder/debug_http_host.hpp"
#include "gprofid/recorder/debug_http_options.hpp"
#include "gprofid/runtime.hpp"

namespace gprofid {

class debug_http_service final : public runtime_service {
 public:
  explicit debug_http_service(debug_http_options options = {});

  // Binds and listens, then serves on its own thread. Throws std::system_error (what(): the
  // address and the reason) if it cannot bind.
  void start(runtime& rt) override;
  // Stops listening, lets requests in progress finish (each bounded by the timeouts), joins
  // every thread. Idempotent; the destructor calls it.
  void stop() override;

  // The port it listens on (the one the system chose when options.port was 0); 0 before start.
  int port() const noexcept { return host_.port(); }

 private:
  debug_http_host host_;
};

}  // namespace gprofid
