#include "gprofid/debug_http/debug_http_service.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "bounded_http_server.hpp"
#include "gprofid/recorder/count_profile_text.hpp"
#include "gprofid/recorder/pprof_goroutine.hpp"
#include "gprofid/recorder/profile.hpp"
#include "gprofid/recording/recording_writer.hpp"
#include "gprofid/traceback.hpp"

namespace gprofid {
namespace {

constexpr std::string_view text_type = "text/plain; charset=utf-8";

// The gzip framing Go's /debug/pprof endpoints use for profile.proto.
std::string gzip(const std::string& data) {
  z_stream z{};
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("zlib: deflateInit2 failed");
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("zlib: deflate failed");
  return out;
}

pprof_source live_source(const runtime& rt) {
  return pprof_source_of(own_header_for(rt, 0));
}

std::string goroutine_profile_pprof(runtime& rt) {
  const profile p = goroutine_profile_with_id(rt);
  return gzip(encode_pprof_goroutine_profile(p.tables, p.snapshot, live_source(rt)));
}

std::string goroutineleak_profile_pprof(runtime& rt) {
  const profile p = goroutine_profile_with_id(rt);
  return gzip(encode_pprof_goroutineleak_profile(p.tables, p.snapshot, live_source(rt)));
}

std::string goroutine_profile_count_text(runtime& rt) {
  const profile p = goroutine_profile_with_id(rt);
  return format_count_profile(p.snapshot, p.tables);
}

// The SIGQUIT dumper's text, in goroutine id order as Go prints it.
std::string goroutine_tracebacks(runtime& rt) {
  snapshot snap = rt.take_snapshot();
  std::sort(snap.goroutines.begin(), snap.goroutines.end(),
            [](const goroutine_record& a, const goroutine_record& b) { return a.id < b.id; });
  return format_snapshot(snap);
}

std::string snapshot_recording(runtime& rt) {
  std::ostringstream out;
  recording_writer w(out, "HTTP answer");
  write_snapshot_recording(rt, w);
  return std::move(out).str();
}

void answer_text(httplib::Response& res, int status, const std::string& line) {
  res.status = status;
  res.set_content(line + "\n", text_type.data());
}

constexpr std::string_view index_text =
    "gprof-id debug service (docs/fleet.md)\n"
    "/debug/pprof/goroutine           pprof goroutine profile (gzip), labels goid, parent_goid, "
    "state, wait_reason, wait_ns, gopc\n"
    "/debug/pprof/goroutine?debug=1   count of goroutines per stack, as text\n"
    "/debug/pprof/goroutine?debug=2   every goroutine's traceback, as text\n"
    "/debug/pprof/goroutineleak       pprof profile of the goroutines proven leaked, labels "
    "leak_rule, blocked_on\n"
    "/debug/gprof-id/snapshot         one sample as a JSON Lines recording "
    "(docs/recording-format.md)\n";

}  // namespace

std::optional<debug_http_options> parse_debug_http_address(std::string_view text,
                                                           std::string& error) {
  debug_http_options o;
  std::string_view port_text = text;
  const auto colon = text.rfind(':');
  if (colon != std::string_view::npos) {
    std::string_view host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
      host = host.substr(1, host.size() - 2);
    if (host.empty()) {
      error = "\"" + std::string(text) +
              "\" names no address: say 127.0.0.1:PORT (this machine only) or 0.0.0.0:PORT "
              "(every interface)";
      return std::nullopt;
    }
    unsigned char addr[16];
    const std::string h(host);
    if (::inet_pton(AF_INET, h.c_str(), addr) != 1 && ::inet_pton(AF_INET6, h.c_str(), addr) != 1) {
      error = "\"" + h.substr(0, 60) + "\" is not an IP address";
      return std::nullopt;
    }
    o.host = h;
  }
  int port = -1;
  const auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || p != port_text.data() + port_text.size() || port < 0 || port > 65535) {
    error = "port \"" + std::string(port_text.substr(0, 20)) + "\" is not a number in 0..65535";
    return std::nullopt;
  }
  o.port = port;
  return o;
}

struct debug_http_service::server {
  explicit server(const debug_http_options& o)
      : http({.max_active = o.max_active,
              .max_queued = o.max_queued,
              .max_request_bytes = o.max_request_bytes,
              .request_timeout_ns = o.request_timeout_ns,
              .send_timeout_ns = o.send_timeout_ns}),
        snapshots(o.snapshots) {}

  bounded_http_server http;
  rate_limiter snapshots;
  std::thread thread;
  std::atomic<bool> listen_returned{false};
};

debug_http_service::debug_http_service(debug_http_options options) : options_(std::move(options)) {}

debug_http_service::~debug_http_service() {
  stop();
}

void debug_http_service::start(runtime& rt) {
  auto s = std::make_unique<server>(options_);
  auto& http = s->http;
  runtime* r = &rt;
  rate_limiter* limiter = &s->snapshots;
  const rate_limit limit = options_.snapshots;

  // Read-only: GET (and HEAD, which httplib answers from the GET handlers) only; every endpoint
  // but the index takes a snapshot and is rate-limited.
  http.set_pre_routing_handler([limiter, limit](const httplib::Request& req,
                                                httplib::Response& res) {
    if (req.method != "GET" && req.method != "HEAD") {
      res.set_header("Allow", "GET, HEAD");
      answer_text(
          res, 405,
          "gprof-id: " + req.method.substr(0, 20) + " not allowed: the debug service only reads");
      return httplib::Server::HandlerResponse::Handled;
    }
    const bool snapshot = req.path == "/debug/pprof/goroutine" ||
                          req.path == "/debug/pprof/goroutineleak" ||
                          req.path == "/debug/gprof-id/snapshot";
    if (snapshot && !limiter->try_take()) {
      res.set_header("Retry-After", "1");
      answer_text(res, 429, "gprof-id: " + snapshot_rate_error(limit));
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  http.Get("/debug/pprof/goroutine", [r](const httplib::Request& req, httplib::Response& res) {
    const std::string debug = req.has_param("debug") ? req.get_param_value("debug") : "0";
    res.set_header("X-Content-Type-Options", "nosniff");
    if (debug == "0") {
      res.set_header("Content-Disposition", "attachment; filename=\"goroutine\"");
      res.set_content(goroutine_profile_pprof(*r), "application/octet-stream");
    } else if (debug == "1") {
      res.set_content(goroutine_profile_count_text(*r), text_type.data());
    } else if (debug == "2") {
      res.set_content(goroutine_tracebacks(*r), text_type.data());
    } else {
      answer_text(res, 400, "gprof-id: debug=" + debug.substr(0, 20) + ": want 0, 1 or 2");
    }
  });
  // Only the profile form: Go's debug=1/2 texts of a leak profile are the goroutine texts of
  // fewer goroutines, which `gprof-id show` marks from the snapshot instead.
  http.Get("/debug/pprof/goroutineleak", [r](const httplib::Request& req, httplib::Response& res) {
    if (req.has_param("debug") && req.get_param_value("debug") != "0") {
      answer_text(res, 400, "gprof-id: goroutineleak is served as a profile only (debug=0)");
      return;
    }
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Content-Disposition", "attachment; filename=\"goroutineleak\"");
    res.set_content(goroutineleak_profile_pprof(*r), "application/octet-stream");
  });
  http.Get("/debug/gprof-id/snapshot", [r](const httplib::Request&, httplib::Response& res) {
    res.set_content(snapshot_recording(*r), "application/x-ndjson");
  });
  http.Get("/debug/pprof/?", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(index_text), text_type.data());
  });
  // httplib's own error answers carry no body: give each a line saying what happened.
  http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    const char* what = res.status == 404   ? "no such endpoint (see /debug/pprof/)"
                       : res.status == 413 ? "request body too large"
                       : res.status == 414 ? "request line too long"
                       : res.status == 400 ? "bad request (or one over the size or time limit)"
                                           : "request refused";
    answer_text(res, res.status,
                "gprof-id: " + std::to_string(res.status) + ": " + what +
                    (res.status == 404 ? " " + req.path.substr(0, 60) : ""));
  });
  http.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string why = "unknown error";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          why = e.what();
        } catch (...) {
        }
        answer_text(res, 500, "gprof-id: " + why);
      });

  const int port = options_.port == 0 ? http.bind_to_any_port(options_.host)
                   : http.bind_to_port(options_.host, options_.port) ? options_.port
                                                                     : -1;
  if (port < 0) {
    const int err = errno;
    throw std::system_error(
        err != 0 ? err : EADDRNOTAVAIL, std::generic_category(),
        "cannot listen on " + options_.host + ":" + std::to_string(options_.port));
  }
  http.set_backlog(128);
  port_ = port;
  s->thread = std::thread([srv = s.get()] {
    // A client that hangs up must be a failed write, never SIGPIPE for the program; the
    // serving threads, started by listen, inherit the mask.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    srv->http.listen_after_bind();
    srv->listen_returned.store(true, std::memory_order_release);
  });
  server_ = std::move(s);
  if (options_.announce) {
    const bool v6 = options_.host.find(':') != std::string::npos;
    std::fprintf(stderr, "gprof-id: debug HTTP on http://%s%s%s:%d/debug/pprof/ (pid %d)\n",
                 v6 ? "[" : "", options_.host.c_str(), v6 ? "]" : "", port_,
                 static_cast<int>(::getpid()));
  }
}

void debug_http_service::stop() {
  if (!server_) return;
  // httplib's stop() does nothing until listen has begun: wait for it to begin (or fail).
  while (!server_->http.is_running() && !server_->listen_returned.load(std::memory_order_acquire)) {
    std::this_thread::yield();
  }
  server_->http.stop();
  server_->thread.join();
  server_.reset();
}

}  // namespace gprofid
