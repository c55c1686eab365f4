#include "gprofid/recorder/debug_service.hpp"

#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>

#include "gprofid/analysis/recording_reader.hpp"
#include "gprofid/recorder/debug_protocol.hpp"

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

}  // namespace
}  // namespace gprofid
