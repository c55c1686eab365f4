#include "http_transport.hpp"

#include <pthread.h>
#include <signal.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>

#include "bounded_http_server.hpp"

namespace gprofid {
namespace {

constexpr const char* text_type = "text/plain; charset=utf-8";

struct server {
  explicit server(const gprofid_http_listen_v1& w)
      : http({.max_active = w.max_active,
              .max_queued = w.max_queued,
              .max_request_bytes = w.max_request_bytes,
              .request_timeout_ns = w.request_timeout_ns,
              .send_timeout_ns = w.send_timeout_ns}) {}

  bounded_http_server http;
  std::thread thread;
  std::atomic<bool> listen_returned{false};
};

void copy_error(char* out, std::size_t size, const std::string& what) {
  if (size == 0) return;
  const std::size_t n = std::min(size - 1, what.size());
  std::memcpy(out, what.data(), n);
  out[n] = '\0';
}

// The gzip framing Go's /debug/pprof endpoints use for profile.proto (windowBits 15 + 16: a
// gzip header and trailer instead of zlib's). The analysis' export has its own; the transport
// links nothing of gprof-id's.
std::string gzip(const char* data, std::size_t size) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("zlib: deflateInit2 failed");
  std::string out(deflateBound(&z, size), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
  z.avail_in = static_cast<uInt>(size);
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("zlib: deflate failed");
  return out;
}

// Called back from the program's answer(): nothing may be thrown across it.
void reply(void* context, const gprofid_http_answer_v1* a) noexcept {
  auto& res = *static_cast<httplib::Response*>(context);
  try {
    res.status = a->status;
    for (std::size_t i = 0; i < a->header_count; ++i) {
      res.set_header(a->headers[2 * i], a->headers[2 * i + 1]);
    }
    const char* type = a->content_type ? a->content_type : text_type;
    if (a->gzip) {
      res.set_content(gzip(a->body, a->body_size), type);
    } else {
      res.set_content(a->body, a->body_size, type);
    }
  } catch (const std::exception& e) {
    res.status = 500;
    res.headers.clear();
    res.body = "gprof-id: 500: " + std::string(e.what()) + "\n";
    res.set_header("Content-Type", text_type);
  }
}

void route(server& s, const gprofid_http_host_v1 host) {
  auto& http = s.http;
  // Every request, whatever its method, is the program's to answer, before httplib reads a body:
  // a GET's is never read, and the program refuses any other method (405).
  http.set_pre_routing_handler([host](const httplib::Request& req, httplib::Response& res) {
    const bool has_debug = req.has_param("debug");
    const std::string debug = has_debug ? req.get_param_value("debug") : std::string();
    const gprofid_http_request_v1 r{.method = req.method.data(),
                                    .method_size = req.method.size(),
                                    .path = req.path.data(),
                                    .path_size = req.path.size(),
                                    .debug = has_debug ? debug.data() : nullptr,
                                    .debug_size = debug.size()};
    host.answer(host.context, &r, reply, &res);
    return httplib::Server::HandlerResponse::Handled;
  });
  // httplib's own error answers (a request over the limits, or one it cannot parse) carry no
  // body: give each a line saying what happened.
  http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    const char* what = res.status == 413   ? "request body too large"
                       : res.status == 414 ? "request line too long"
                       : res.status == 400 ? "bad request (or one over the size or time limit)"
                                           : "request refused";
    res.set_content("gprof-id: " + std::to_string(res.status) + ": " + what + "\n", text_type);
  });
  // Out of memory while copying a request (the program's answer() and reply() never throw).
  http.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        res.status = 500;
        res.set_content("gprof-id: 500: out of memory\n", text_type);
      });
}

void* start(const gprofid_http_listen_v1* where, const gprofid_http_host_v1* host, int* bound_port,
            char* error, std::size_t error_size, int* error_number) noexcept {
  const std::string address = std::string(where->host) + ":" + std::to_string(where->port);
  *error_number = 0;
  try {
    auto s = std::make_unique<server>(*where);
    route(*s, *host);
    errno = 0;
    const int port = where->port == 0 ? s->http.bind_to_any_port(where->host)
                     : s->http.bind_to_port(where->host, where->port) ? where->port
                                                                      : -1;
    if (port < 0) {
      const int err = errno != 0 ? errno : EADDRNOTAVAIL;
      *error_number = err;
      copy_error(error, error_size, "cannot listen on " + address);
      return nullptr;
    }
    s->http.set_backlog(128);
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
    *bound_port = port;
    return s.release();  // the C boundary: stop() takes it back
  } catch (const std::exception& e) {
    copy_error(error, error_size, "cannot serve on " + address + ": " + e.what());
    return nullptr;
  }
}

void stop(void* p) noexcept {
  std::unique_ptr<server> s(static_cast<server*>(p));
  if (!s) return;
  // httplib's stop() does nothing until listen has begun: wait for it to begin (or fail).
  while (!s->http.is_running() && !s->listen_returned.load(std::memory_order_acquire)) {
    std::this_thread::yield();
  }
  s->http.stop();
  s->thread.join();
}

constexpr gprofid_http_transport_v1 table{.start = start, .stop = stop};

}  // namespace

const gprofid_http_transport_v1& http_transport() noexcept {
  return table;
}

}  // namespace gprofid
