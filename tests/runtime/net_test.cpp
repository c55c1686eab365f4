#include "gprofid/net.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <system_error>
#include <vector>

#include "gprofid/channel.hpp"
#include "gprofid/detail/park.hpp"
#include "gprofid/runtime.hpp"

namespace gprofid {
namespace {

std::vector<std::byte> pattern(std::size_t n, unsigned seed) {
  std::vector<std::byte> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::byte>((i * 131 + seed) & 0xff);
  return out;
}

// Reads until end of stream.
task<std::vector<std::byte>> read_all(tcp_stream& s) {
  std::vector<std::byte> out;
  std::vector<std::byte> buf(16 * 1024);
  for (;;) {
    const std::size_t n = co_await s.read(buf);
    if (n == 0) co_return out;
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  }
}

// Echoes one connection until the peer stops sending, then ends its own side.
task<void> echo(tcp_stream s) {
  std::vector<std::byte> buf(8 * 1024);
  for (;;) {
    const std::size_t n = co_await s.read(buf);
    if (n == 0) break;
    co_await s.write_all(std::span<const std::byte>(buf.data(), n));
  }
  s.shutdown_write();
}

task<void> echo_server(tcp_listener& l, int connections) {
  for (int i = 0; i < connections; ++i) go(echo(co_await l.accept()));
}

task<void> send_all(tcp_stream& s, const std::vector<std::byte>& data) {
  co_await s.write_all(data);
  s.shutdown_write();
}

void echo_round_trip(std::size_t workers) {
  runtime rt({.workers = workers});
  std::vector<std::byte> received;
  const auto sent = pattern(1 << 20, 7);
  rt.run([](const std::vector<std::byte>& sent, std::vector<std::byte>& received) -> task<void> {
    auto l = tcp_listener::listen("127.0.0.1", 0);
    REQUIRE(l.local_port() != 0);
    go(echo_server(l, 1));
    auto c = co_await tcp_stream::connect("127.0.0.1", l.local_port());
    // Writing 1 MB while the echo comes back needs a concurrent reader: socket buffers are
    // smaller than that.
    go(send_all(c, sent));
    received = co_await read_all(c);
  }(sent, received));
  CHECK(received.size() == sent.size());
  CHECK(received == sent);
}

TEST_CASE("net: echo 1 MB over loopback, one worker") {
  echo_round_trip(1);
}

TEST_CASE("net: echo 1 MB over loopback, two workers") {
  echo_round_trip(2);
}

TEST_CASE("net: a goroutine blocked in read waits with reason io_wait") {
  runtime rt({.workers = 1});
  rt.run([](runtime& rt) -> task<void> {
    auto l = tcp_listener::listen("127.0.0.1", 0);
    auto client = co_await tcp_stream::connect("127.0.0.1", l.local_port());
    auto server = co_await l.accept();
    CHECK(server.peer_port() == client.local_port());
    std::size_t got = 0;
    const std::uint64_t reader = go([](tcp_stream& s, std::size_t& got) -> task<void> {
      std::byte buf[16];
      got = co_await s.read(buf);
    }(server, got));
    co_await yield();  // the reader runs until it parks: nothing has been sent
    const snapshot snap = rt.take_snapshot();
    const auto* rec = snap.find(reader);
    REQUIRE(rec);
    CHECK(rec->state == goroutine_state::waiting);
    CHECK(rec->reason == wait_reason::io_wait);

    const auto msg = pattern(5, 1);
    co_await client.write_all(msg);
    while (got == 0) co_await yield();
    CHECK(got == 5);
  }(rt));
}

TEST_CASE("net: accepts several concurrent clients") {
  constexpr int clients = 8;
  runtime rt({.workers = 2});
  std::atomic<int> ok{0};
  rt.run([](std::atomic<int>& ok) -> task<void> {
    auto l = tcp_listener::listen("127.0.0.1", 0);
    go(echo_server(l, clients));
    std::vector<std::uint64_t> ids;
    std::atomic<int> finished{0};
    for (int i = 0; i < clients; ++i) {
      go([](std::uint16_t port, int i, std::atomic<int>& ok,
            std::atomic<int>& finished) -> task<void> {
        auto c = co_await tcp_stream::connect("127.0.0.1", port);
        const auto msg = pattern(1000 + static_cast<std::size_t>(i), static_cast<unsigned>(i));
        co_await c.write_all(msg);
        c.shutdown_write();
        if (co_await read_all(c) == msg) ok.fetch_add(1);
        finished.fetch_add(1);
      }(l.local_port(), i, ok, finished));
    }
    while (finished.load() < clients) co_await yield();
  }(ok));
  CHECK(ok == clients);
}

task<void> accept_until_closed(tcp_listener& l, chan<int> result) {
  int err = 0;
  try {
    co_await l.accept();
  } catch (const std::system_error& e) {
    err = e.code().value();
  }
  co_await result.send(err);
}

task<void> read_until_closed(tcp_stream& s, chan<int> result) {
  int err = 0;
  try {
    std::byte buf[16];
    co_await s.read(buf);
  } catch (const std::system_error& e) {
    err = e.code().value();
  }
  co_await result.send(err);
}

task<void> write_until_closed(tcp_stream& s, chan<int> result) {
  int err = 0;
  try {
    const std::vector<std::byte> big(64 << 20);  // far more than the socket buffers hold
    co_await s.write_all(big);
  } catch (const std::system_error& e) {
    err = e.code().value();
  }
  co_await result.send(err);
}

// Go's Close on a listener or conn another goroutine is blocked in: the blocked call returns an
// error instead of waiting forever (a server's shutdown, a watchdog's timeout).
TEST_CASE("net: close() ends the accept, read and write other goroutines are blocked in") {
  runtime rt({.workers = 1});
  rt.run([]() -> task<void> {
    auto result = make_chan<int>(1);
    auto l = tcp_listener::listen("127.0.0.1", 0);
    const std::uint16_t port = l.local_port();
    go(accept_until_closed(l, result));
    co_await yield();  // it parks in accept
    l.close();
    CHECK(!l.is_open());
    CHECK(l.native_handle() == -1);
    CHECK(*co_await result.recv() == ECANCELED);
    int err = 0;
    try {
      co_await l.accept();
    } catch (const std::system_error& e) {
      err = e.code().value();
    }
    CHECK(err == EBADF);
    l.close();  // twice: nothing more happens
    // The port is free again once no accept holds the descriptor.
    auto again = tcp_listener::listen("127.0.0.1", port);
    CHECK(again.local_port() == port);

    auto client = co_await tcp_stream::connect("127.0.0.1", port);
    auto server = co_await again.accept();
    go(read_until_closed(server, result));
    co_await yield();  // it parks in read: the client sent nothing
    server.close();
    CHECK(*co_await result.recv() == ECANCELED);
    std::byte buf[4];
    CHECK(co_await client.read(buf) == 0);  // the peer sees the end of the stream
    err = 0;
    try {
      co_await server.read(buf);
    } catch (const std::system_error& e) {
      err = e.code().value();
    }
    CHECK(err == EBADF);

    auto client2 = co_await tcp_stream::connect("127.0.0.1", port);
    auto server2 = co_await again.accept();
    go(write_until_closed(client2, result));  // server2 never reads: the writer fills and parks
    co_await yield();
    client2.close();
    CHECK(*co_await result.recv() == ECANCELED);
  }());
  CHECK(rt.live_goroutines() == 0);
}

TEST_CASE("net: errors are system_errors") {
  runtime rt({.workers = 1});
  rt.run([]() -> task<void> {
    // A port nobody listens on: bind one, remember it, close it.
    std::uint16_t port;
    {
      auto l = tcp_listener::listen("127.0.0.1", 0);
      port = l.local_port();
    }
    bool refused = false;
    try {
      co_await tcp_stream::connect("127.0.0.1", port);
    } catch (const std::system_error& e) {
      refused = e.code() == std::errc::connection_refused;
    }
    CHECK(refused);

    auto l = tcp_listener::listen("127.0.0.1", 0);
    CHECK_THROWS_AS(tcp_listener::listen("127.0.0.1", l.local_port()), std::system_error);
    tcp_stream closed;
    bool bad = false;
    try {
      std::byte b[1];
      co_await closed.read(b);
    } catch (const std::system_error& e) {
      bad = e.code() == std::errc::bad_file_descriptor;
    }
    CHECK(bad);
  }());
}

TEST_CASE("net: outside a goroutine") {
  CHECK_THROWS_AS(tcp_listener::listen("127.0.0.1", 0), std::logic_error);
}

TEST_CASE("net: a runtime torn down while goroutines wait on sockets frees them") {
  runtime rt({.workers = 1});
  rt.run([]() -> task<void> {
    auto l = tcp_listener::listen("127.0.0.1", 0);
    // One goroutine parks in accept, one in read; both own their sockets.
    go([](tcp_listener l) -> task<void> {
      co_await l.accept();
      co_await l.accept();
    }(std::move(l)));
    co_await yield();
    auto listener2 = tcp_listener::listen("127.0.0.1", 0);
    auto client = co_await tcp_stream::connect("127.0.0.1", listener2.local_port());
    auto server = co_await listener2.accept();
    // The reader also owns the other end, so main's exit cannot end its wait with an EOF.
    go([](tcp_stream s, tcp_stream peer) -> task<void> {
      std::byte buf[8];
      co_await s.read(buf);
      peer.close();
    }(std::move(server), std::move(client)));
    co_await yield();
  }());
  CHECK(rt.live_goroutines() == 2);
}

}  // namespace
}  // namespace gprofid
