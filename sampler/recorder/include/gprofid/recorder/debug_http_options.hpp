// Where and how the HTTP debug service listens (docs/fleet.md): set by GPROFID_DEBUG_HTTP, or
// by a program that starts gprofid::debug_http_service itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gprofid/recorder/rate_limit.hpp"

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
  // Write the bound address to debug_http_address_path(PID) while serving (the service
  // GPROFID_DEBUG_HTTP starts does), so that tools find a port the system chose.
  bool address_file = false;
};

// Parses GPROFID_DEBUG_HTTP's value: "HOST:PORT", "[V6]:PORT" or "PORT" (on 127.0.0.1); HOST
// must be an IP address. On failure returns nullopt and sets `error` to a one-line reason.
std::optional<debug_http_options> parse_debug_http_address(std::string_view text,
                                                           std::string& error);

// "HOST:PORT", or "[HOST]:PORT" for an IPv6 address: how the service names where it listens.
std::string http_address_text(const std::string& host, int port);

}  // namespace gprofid
