#include "gprofid/debug_http/debug_http_service.hpp"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "gprofid/analysis/recording_reader.hpp"
#include "gprofid/channel.hpp"
#include "gprofid/recorder/debug_protocol.hpp"
#include "gprofid/runtime.hpp"
#include "gprofid/this_goroutine.hpp"

namespace gprofid {
namespace {

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
  return fd;
}

std::string read_all(int fd) {
  std::string out;
  char buf[65536];
  while (true) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

struct answer {
  int status = 0;
  std::string head, body;
};

answer parse(const std::string& raw) {
  answer a;
  const auto end = raw.find("\r\n\r\n");
  a.head = raw.substr(0, end);
  if (end != std::string::npos) a.body = raw.substr(end + 4);
  if (raw.starts_with("HTTP/1.1 ")) a.status = std::stoi(raw.substr(9, 3));
  return a;
}

// Sends `request` whole and returns the answer (the service closes after one).
answer ask(int port, const std::string& request) {
  const int fd = connect_to(port);
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  answer a = parse(read_all(fd));
  ::close(fd);
  return a;
}

answer get(int port, const std::string& target) {
  return ask(port, "GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
}

TEST_CASE("parse_debug_http_address: HOST:PORT, [V6]:PORT or PORT; addresses only") {
  std::string why;
  auto o = parse_debug_http_address("6060", why);
  REQUIRE(o);
  CHECK(o->host == "127.0.0.1");
  CHECK(o->port == 6060);
  o = parse_debug_http_address("0.0.0.0:0", why);
  REQUIRE(o);
  CHECK(o->host == "0.0.0.0");
  CHECK(o->port == 0);
  o = parse_debug_http_address("[::1]:80", why);
  REQUIRE(o);
  CHECK(o->host == "::1");
  CHECK_FALSE(parse_debug_http_address(":6060", why));
  CHECK(why.find("names no address") != std::string::npos);
  CHECK_FALSE(parse_debug_http_address("localhost:6060", why));
  CHECK(why == "\"localhost\" is not an IP address");
  CHECK_FALSE(parse_debug_http_address("127.0.0.1:65536", why));
  CHECK(why == "port \"65536\" is not a number in 0..65535");
  CHECK_FALSE(parse_debug_http_address("127.0.0.1:", why));
  CHECK_FALSE(parse_debug_http_address("", why));
}

TEST_CASE("debug_http_service: every endpoint while the only worker is blocked") {
  runtime rt({.workers = 1});
  rt.run([](runtime& rt) -> task<void> {
    // This goroutine holds the only worker for the whole test: the service answers from its
    // own threads.
    debug_http_service http;
    http.start(rt);
    const int port = http.port();
    REQUIRE(port > 0);

    answer a = get(port, "/debug/pprof/goroutine?debug=2");
    CHECK(a.status == 200);
    CHECK(a.head.find("Content-Type: text/plain; charset=utf-8") != std::string::npos);
    CHECK(a.body.starts_with("goroutine 1 [running]:\n"));

    a = get(port, "/debug/pprof/goroutine?debug=1");
    CHECK(a.status == 200);
    CHECK(a.body.starts_with("goroutine profile: total 1\n1 @ "));

    a = get(port, "/debug/pprof/goroutine");
    CHECK(a.status == 200);
    CHECK(a.head.find("Content-Type: application/octet-stream") != std::string::npos);
    REQUIRE(a.body.size() > 2);
    CHECK(static_cast<unsigned char>(a.body[0]) == 0x1f);  // gzip, as Go serves it
    CHECK(static_cast<unsigned char>(a.body[1]) == 0x8b);

    a = get(port, "/debug/pprof/goroutineleak");
    CHECK(a.status == 200);
    CHECK(a.head.find("Content-Type: application/octet-stream") != std::string::npos);
    a = get(port, "/debug/pprof/goroutineleak?debug=1");
    CHECK(a.status == 200);
    CHECK(a.body == "goroutineleak profile: total 0\n");
    a = get(port, "/debug/pprof/goroutineleak?debug=2");
    CHECK(a.status == 200);
    CHECK(a.body.empty());
    CHECK(get(port, "/debug/pprof/goroutineleak?debug=7").status == 400);

    a = get(port, "/debug/gprof-id/snapshot");
    CHECK(a.status == 200);
    std::istringstream in(a.body);
    recording_reader reader(in, "HTTP");
    sample s;
    REQUIRE(reader.next(s));
    CHECK(s.goroutines.size() == 1);
    CHECK(reader.header().pid == ::getpid());

    CHECK(get(port, "/debug/pprof/").body.find("/debug/pprof/goroutine?debug=2") !=
          std::string::npos);
    a = get(port, "/debug/pprof/goroutine?debug=3");
    CHECK(a.status == 400);
    CHECK(a.body == "gprof-id: debug=3: want 0, 1 or 2\n");
    a = get(port, "/nothing/here");
    CHECK(a.status == 404);
    CHECK(a.body == "gprof-id: 404: no such endpoint (see /debug/pprof/) /nothing/here\n");
    a = ask(port, "POST /debug/pprof/goroutine HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    CHECK(a.status == 405);
    CHECK(a.body == "gprof-id: POST not allowed: the debug service only reads\n");
    http.stop();
    co_return;
  }(rt));
}

TEST_CASE("debug_http_service: requests over the size limit are refused, unread") {
  runtime rt({.workers = 1});
  debug_http_service http;
  http.start(rt);
  const int port = http.port();
  // A declared 100 MB body is never read: a GET's is ignored, any other method is refused (405)
  // before its body.
  answer a = ask(
      port, "GET /debug/pprof/goroutine HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n");
  CHECK(a.status == 200);
  a = ask(port,
          "PUT /debug/pprof/goroutine HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n");
  CHECK(a.status == 405);
  // 100 MB of headers: the service stops reading at 16 KiB, answers 400 and closes, so the
  // sender's writes fail long before 100 MB have gone.
  const int fd = connect_to(port);
  const std::string start = "GET /debug/pprof/goroutine HTTP/1.1\r\nHost: x\r\n";
  ::send(fd, start.data(), start.size(), MSG_NOSIGNAL);
  const std::string header = "X-Filler: " + std::string(1000, 'y') + "\r\n";
  std::size_t sent = 0;
  while (sent < 100u * 1024 * 1024) {
    const ssize_t n = ::send(fd, header.data(), header.size(), MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  ::close(fd);
  CHECK(sent < 100u * 1024 * 1024);
  // A long request line: 414 (httplib's own 8 KiB limit), and the service still serves.
  CHECK(get(port, "/debug/pprof/goroutine?x=" + std::string(9000, 'z')).status == 414);
  CHECK(get(port, "/debug/pprof/goroutine?debug=1").status == 200);
  http.stop();
}

TEST_CASE(
    "debug_http_service: snapshots beyond the rate are 429; connections beyond the bound 503") {
  runtime rt({.workers = 1});
  // One token a day: the third snapshot is refused however slow the machine is.
  debug_http_service http({.max_active = 1,
                           .max_queued = 0,
                           .request_timeout_ns = 30'000'000'000,
                           .snapshots = {.per_second = 1.0 / 86400, .burst = 2}});
  http.start(rt);
  const int port = http.port();
  CHECK(get(port, "/debug/pprof/goroutine?debug=1").status == 200);
  CHECK(get(port, "/debug/gprof-id/snapshot").status == 200);
  answer a = get(port, "/debug/pprof/goroutine?debug=2");
  CHECK(a.status == 429);
  CHECK(a.head.find("Retry-After: 1") != std::string::npos);
  CHECK(a.body.starts_with("gprof-id: busy: more than 1.15741e-05 snapshots a second"));
  CHECK(get(port, "/debug/pprof/").status == 200);  // the index takes no snapshot

  // A client that sends half a request holds the only serving thread; the next connection is
  // answered 503 at once, without waiting for the first.
  const int slow = connect_to(port);
  const std::string half = "GET /debug/pprof/ HTTP/1.1\r\n";
  ::send(slow, half.data(), half.size(), MSG_NOSIGNAL);
  a = get(port, "/debug/pprof/");
  CHECK(a.status == 503);
  CHECK(a.body == "gprof-id: busy: too many requests at once; retry\n");
  const std::string rest = "Host: x\r\n\r\n";
  ::send(slow, rest.data(), rest.size(), MSG_NOSIGNAL);
  CHECK(parse(read_all(slow)).status == 200);
  ::close(slow);
  http.stop();
}

task<void> leaked_waiter(chan<int> ready) {
  co_await ready.send(1);
  co_await make_chan<int>().recv();  // a channel only this frame holds: proven leaked
}

TEST_CASE("debug_http_service: goroutineleak debug=1 and debug=2 show the leaked goroutines only") {
  runtime rt({.workers = 1});
  rt.run([](runtime& rt) -> task<void> {
    auto ready = make_chan<int>();
    const std::uint64_t leaked = go(leaked_waiter(ready));
    co_await ready.recv();
    while (true) {  // until it is parked (it may still be queued behind us)
      const snapshot snap = rt.take_snapshot();
      const goroutine_record* r = snap.find(leaked);
      if (r && r->state == goroutine_state::waiting) break;
      co_await yield();
    }
    debug_http_service http;
    http.start(rt);
    const int port = http.port();
    answer a = get(port, "/debug/pprof/goroutineleak?debug=1");
    CHECK(a.status == 200);
    CHECK(a.head.find("Content-Type: text/plain; charset=utf-8") != std::string::npos);
    CHECK(a.body.starts_with("goroutineleak profile: total 1\n1 @ "));
    CHECK(a.body.find("leaked_waiter") != std::string::npos);
    a = get(port, "/debug/pprof/goroutineleak?debug=2");
    CHECK(a.status == 200);
    // Go's traceback of that one goroutine, not of the main one (running, and not leaked).
    CHECK(a.body.starts_with("goroutine " + std::to_string(leaked) + " [chan receive"));
    CHECK(a.body.find("leaked_waiter") != std::string::npos);
    CHECK(a.body.find("[running]") == std::string::npos);
    // The goroutine texts, for comparison: both goroutines.
    CHECK(get(port, "/debug/pprof/goroutine?debug=1")
              .body.starts_with("goroutine profile: total 2\n"));
    http.stop();
  }(rt));
}

TEST_CASE("debug_http_service: the address file names the bound port while it serves") {
  const std::string xdg =
      std::filesystem::temp_directory_path() / ("gprofid-http-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(xdg);
  const char* saved = std::getenv("XDG_RUNTIME_DIR");
  const std::string saved_value = saved ? saved : "";
  ::setenv("XDG_RUNTIME_DIR", xdg.c_str(), 1);
  const std::string dir = debug_socket_dir(xdg.c_str());
  // A file left by a killed program (a pid that cannot exist) is removed at start.
  std::filesystem::create_directories(dir);
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all);
  std::ofstream(dir + "/2147483646.http") << "127.0.0.1:1\n";
  {
    runtime rt({.workers = 1});
    debug_http_service http({.address_file = true});
    http.start(rt);
    const auto address = read_debug_http_address(dir, ::getpid());
    REQUIRE(address);
    CHECK(*address == "127.0.0.1:" + std::to_string(http.port()));
    CHECK((std::filesystem::status(debug_http_address_path(dir, ::getpid())).permissions() &
           std::filesystem::perms::all) ==
          (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
    CHECK_FALSE(std::filesystem::exists(dir + "/2147483646.http"));
    http.stop();
    CHECK_FALSE(read_debug_http_address(dir, ::getpid()));
  }
  if (saved) {
    ::setenv("XDG_RUNTIME_DIR", saved_value.c_str(), 1);
  } else {
    ::unsetenv("XDG_RUNTIME_DIR");
  }
  std::filesystem::remove_all(xdg);
}

}  // namespace
}  // namespace gprofid
