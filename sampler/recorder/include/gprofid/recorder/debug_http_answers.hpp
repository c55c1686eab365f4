// What the HTTP debug service answers (docs/fleet.md), computed inside the program from one
// snapshot per request, with no HTTP library: the transport (http_transport_abi.hpp) only
// carries requests here and answers back.
//
//   /debug/pprof/goroutine              pprof profile (gzip), labels goid, parent_goid, state, ...
//   /debug/pprof/goroutine?debug=1      Go's count-per-stack text
//   /debug/pprof/goroutine?debug=2      Go's traceback text (the SIGQUIT dump)
//   /debug/pprof/goroutineleak[?debug=1|2]  the same, of the proven-leaked goroutines only
//   /debug/gprof-id/snapshot            one sample as a v1 JSON Lines recording
//   /debug/pprof/                       the list above
//
// Read-only: GET and HEAD only (405 otherwise); every endpoint but the index takes a snapshot,
// and they share one rate limit (429 beyond it).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gprofid/recorder/rate_limit.hpp"
#include "gprofid/runtime.hpp"

namespace gprofid {

struct http_answer {
  int status = 200;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool gzip = false;  // the transport sends `body` gzip-compressed
};

struct http_question {
  std::string_view method;
  std::string_view path;
  std::optional<std::string_view> debug;  // the `debug` query parameter
};

class debug_http_answers {
 public:
  debug_http_answers(runtime& rt, rate_limit snapshots) : rt_(rt), limiter_(snapshots) {}

  // Any thread. Never throws: a failure is a 500 whose body names it.
  http_answer answer(const http_question& q) noexcept;

 private:
  http_answer answer_or_throw(const http_question& q);

  runtime& rt_;
  rate_limiter limiter_;
};

}  // namespace gprofid
