#include "gprofid/recorder/debug_service.hpp"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "gprofid/analysis/recording_reader.hpp"
#include "gprofid/recorder/debug_protocol.hpp"
#include "gprofid/recorder/rate_limit.hpp"

namespace gprofid {
namespace {

namespace fs = std::filesystem;

// A private directory for one test's socket, removed afterwards.
struct socket_dir {
  fs::path dir = fs::temp_directory_path() / ("gprofid-debug-" + std::to_string(::getpid()));
  socket_dir() {
    fs::create_directory(dir);
    fs::permissions(dir, fs::perms::owner_all);
  }
  ~socket_dir() { fs::remove_all(dir); }
  std::string socket() const { return (dir / "test.sock").string(); }
};

// Connects, sends `request`, and returns everything the service sends until it closes.
std::string ask(const std::string& path, const std::string& request) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  REQUIRE(::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  while (true) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

TEST_CASE("parse_debug_request: the two requests, and one-line reasons for the rest") {
  std::string why;
  auto snap = parse_debug_request("snapshot", why);
  REQUIRE(snap);
  CHECK(snap->what == debug_request::kind::snapshot);
  auto rec = parse_debug_request("record 10000000 2000000000 7", why);
  REQUIRE(rec);
  CHECK(rec->what == debug_request::kind::record);
  CHECK(rec->interval_ns == 10'000'000);
  CHECK(rec->duration_ns == 2'000'000'000);
  CHECK(rec->max_samples == 7);
  const std::string line = format_debug_request(*rec);
  CHECK(line == "record 10000000 2000000000 7\n");
  CHECK(parse_debug_request(std::string_view(line).substr(0, line.size() - 1), why));
  CHECK_FALSE(parse_debug_request("record 999 0", why));  // faster than 1 ms
  CHECK(why.starts_with("INTERVAL_NS \"999\""));
  CHECK_FALSE(parse_debug_request("record 1000000 -1", why));
  CHECK_FALSE(parse_debug_request("record 1000000", why));
  CHECK_FALSE(parse_debug_request("", why));
  CHECK_FALSE(parse_debug_request("snapshot\x01", why));
  CHECK(why == "request is not a line of printable ASCII");
}

TEST_CASE("debug_service: a snapshot while main is blocked; other users are refused") {
  socket_dir d;
  runtime rt({.workers = 1});
  rt.run([](runtime& rt, const socket_dir& d) -> task<void> {
    auto own = std::make_unique<debug_service>(debug_service_options{.socket_path = d.socket()});
    // The only worker is blocked in this goroutine for the whole test: the service answers from
    // its own threads.
    own->start(rt);
    CHECK((fs::status(d.socket()).permissions() & fs::perms::all) ==
          (fs::perms::owner_read | fs::perms::owner_write));
    std::istringstream in(ask(d.socket(), "snapshot\n"));
    recording_reader reader(in, "socket");
    sample s;
    REQUIRE(reader.next(s));
    CHECK(s.goroutines.size() == 1);
    CHECK_FALSE(reader.next(s));
    REQUIRE(reader.end());
    CHECK(reader.end()->samples == 1);
    CHECK(ask(d.socket(), "bogus\n").starts_with("error: unknown request \"bogus\""));
    own->stop();
    CHECK_FALSE(fs::exists(d.socket()));

    debug_service strict(
        {.socket_path = d.socket(), .allowed_uid = static_cast<long>(::geteuid()) + 1});
    strict.start(rt);
    CHECK(ask(d.socket(), "snapshot\n").starts_with("error: permission denied: user "));
    strict.stop();
    co_return;
  }(rt, d));
}

TEST_CASE("debug_service: refuses a directory others can enter") {
  socket_dir d;
  fs::permissions(d.dir, fs::perms::owner_all | fs::perms::others_exec);
  runtime rt({.workers = 1});
  debug_service s({.socket_path = d.socket()});
  CHECK_THROWS_WITH_AS(s.start(rt), doctest::Contains("is not a private directory"),
                       std::system_error);
}

TEST_CASE("rate_limiter: a full bucket, refilled at its rate, never above its burst") {
  rate_limiter r({.per_second = 2, .burst = 3});
  const std::int64_t t0 = 1'000'000'000;
  CHECK(r.try_take(t0));
  CHECK(r.try_take(t0));
  CHECK(r.try_take(t0));
  CHECK_FALSE(r.try_take(t0));
  CHECK_FALSE(r.try_take(t0 + 400'000'000));  // 0.8 of a token
  CHECK(r.try_take(t0 + 500'000'000));        // one token after 0.5 s
  CHECK_FALSE(r.try_take(t0 + 500'000'000));
  CHECK(r.try_take(t0 + 100'000'000'000));  // a long quiet spell fills the bucket, no more
  CHECK(r.try_take(t0 + 100'000'000'000));
  CHECK(r.try_take(t0 + 100'000'000'000));
  CHECK_FALSE(r.try_take(t0 + 100'000'000'000));
  CHECK_FALSE(r.try_take(t0));  // a clock read out of order adds nothing
  rate_limiter off({.per_second = 0, .burst = 0});
  for (int i = 0; i < 100; ++i) CHECK(off.try_take(t0));
}

TEST_CASE("debug_service: snapshots beyond the rate limit are refused, recordings are not") {
  socket_dir d;
  runtime rt({.workers = 1});
  rt.run([](runtime& rt, const socket_dir& d) -> task<void> {
    // One token a day: the third snapshot is refused however slow the machine is.
    debug_service s(
        {.socket_path = d.socket(), .snapshots = {.per_second = 1.0 / 86400, .burst = 2}});
    s.start(rt);
    CHECK(ask(d.socket(), "snapshot\n").starts_with("{"));
    CHECK(ask(d.socket(), "snapshot\n").starts_with("{"));
    CHECK(ask(d.socket(), "snapshot\n") ==
          "error: busy: more than 1.15741e-05 snapshots a second (burst 2); try again later\n");
    CHECK(ask(d.socket(), "record 1000000 0 1\n").starts_with("{"));
    s.stop();
    co_return;
  }(rt, d));
}

TEST_CASE("debug sockets: a stale one is removed, a served one or a live process's is kept") {
  socket_dir d;
  const std::string path = (d.dir / "1.sock").string();
  // A socket nobody listens on, as a killed program leaves it.
  const auto leave_socket = [](const std::string& p) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, p.c_str(), p.size() + 1);
    REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
    ::close(fd);
  };
  leave_socket(path);
  CHECK_FALSE(debug_socket_listened(path));
  CHECK_FALSE(remove_stale_debug_socket(path, 1));  // pid 1 is alive
  CHECK(fs::exists(path));
  // A pid above pid_max names no process.
  const std::string dead = (d.dir / "2147483600.sock").string();
  leave_socket(dead);
  std::ofstream((d.dir / "2147483601.sock").string()) << "not a socket";
  CHECK(remove_stale_debug_sockets(d.dir.string()) == 1);
  CHECK_FALSE(fs::exists(dead));
  CHECK(fs::exists(d.dir / "2147483601.sock"));
  CHECK(fs::exists(path));

  // A service replaces a stale socket at its own path, and refuses to take a served one.
  runtime rt({.workers = 1});
  debug_service first({.socket_path = path});
  first.start(rt);
  CHECK(debug_socket_listened(path));
  CHECK_FALSE(remove_stale_debug_socket(path, 2147483600));  // served, whatever the pid
  debug_service second({.socket_path = path});
  CHECK_THROWS_WITH_AS(second.start(rt), doctest::Contains("another debug service listens on"),
                       std::system_error);
  first.stop();
  CHECK_FALSE(fs::exists(path));
}

TEST_CASE("address files: removed as stale sockets are, when the pid is gone and nothing listens") {
  socket_dir d;
  // A TCP port that listens, and one that did and no longer does.
  const auto bound = [](bool keep_listening, int& fd) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 1) == 0);
    socklen_t n = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
    if (!keep_listening) ::close(fd);
    return "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  };
  int served_fd = -1, closed_fd = -1;
  const std::string served = bound(true, served_fd);
  const std::string closed = bound(false, closed_fd);
  CHECK(debug_http_address_listened(served));
  CHECK_FALSE(debug_http_address_listened(closed));
  CHECK_FALSE(debug_http_address_listened("nonsense"));
  const auto file = [&](const std::string& name, const std::string& address) {
    std::ofstream((d.dir / name).string()) << address << "\n";
    return (d.dir / name).string();
  };
  const std::string dead_served = file("2147483602.http", served);  // a dead pid, still served
  const std::string dead = file("2147483603.http", closed);
  const std::string alive = file("1.http", closed);  // pid 1 is alive
  CHECK(remove_stale_debug_sockets(d.dir.string()) == 1);
  CHECK(fs::exists(dead_served));
  CHECK_FALSE(fs::exists(dead));
  CHECK(fs::exists(alive));
  ::close(served_fd);
  CHECK(remove_stale_debug_http_address(dead_served, 2147483602));
}

}  // namespace
}  // namespace gprofid
