// cpp-httplib's Server with hard bounds, for a service that runs inside somebody's program:
// - at most `max_active` requests are served at once (that many threads), `max_queued`
//   accepted connections wait for them, and any further connection is answered 503 on the
//   listening thread without being read;
// - a connection carries one request, which must arrive whole within `request_timeout_ns` and
//   fit `max_request_bytes` (line, headers and body): reads past either fail, and httplib
//   answers 400 (or 413 for a declared body too long);
// - an answer that the client does not take within `send_timeout_ns` is dropped.
// httplib 0.11.4 has no such limits of its own (its thread pool queues without bound, its
// header reader does not bound the header count), hence the stream and the queue here.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include <httplib.h>

namespace gprofid {

struct http_bounds {
  std::size_t max_active = 4;
  std::size_t max_queued = 16;
  std::size_t max_request_bytes = 16 * 1024;
  std::int64_t request_timeout_ns = 2'000'000'000;
  std::int64_t send_timeout_ns = 5'000'000'000;
};

class bounded_http_server final : public httplib::Server {
 public:
  explicit bounded_http_server(http_bounds bounds);

  // After bind_to_port: a listen backlog of `n` instead of httplib's 5, so that a burst of
  // connections is answered (503 at worst) rather than left to SYN retries.
  void set_backlog(int n);

 private:
  // Called by httplib for every accepted connection, on a queue thread, or on the listening
  // thread when the queue is full (then it only answers 503).
  bool process_and_close_socket(socket_t sock) override;

  http_bounds bounds_;
  std::atomic<std::size_t> admitted_{0};  // connections queued or being served
};

}  // namespace gprofid
