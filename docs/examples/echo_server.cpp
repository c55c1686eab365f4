// An example program built on the gprof-id runtime: a TCP echo server on 127.0.0.1 with a few
// client goroutines talking to it. Linked with gprofid::gprofid, it records itself when started
// by `gprof-id record -- ./echo_server`, and runs normally otherwise.
//
//   echo_server [CLIENTS [SECONDS]]   (defaults: 4 clients, run until killed)
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>

#include <gprofid/channel.hpp>
#include <gprofid/net.hpp>
#include <gprofid/runtime.hpp>
#include <gprofid/sleep.hpp>
#include <gprofid/this_goroutine.hpp>

using namespace std::chrono_literals;

namespace {

gprofid::task<void> echo(gprofid::tcp_stream conn) {
  gprofid::this_goroutine::set_label("peer", std::to_string(conn.peer_port()));
  try {
    char buf[1024];
    while (std::size_t n = co_await conn.read(std::as_writable_bytes(std::span(buf)))) {
      co_await conn.write_all(std::as_bytes(std::span(buf, n)));
    }
  } catch (const std::system_error&) {
    // Peer reset: nothing to echo any more.
  }
}

gprofid::task<void> serve(gprofid::tcp_listener listener) {
  while (true) gprofid::go(echo(co_await listener.accept()));
}

gprofid::task<void> client(int index, std::uint16_t port) {
  gprofid::this_goroutine::set_label("client", std::to_string(index));
  auto conn = co_await gprofid::tcp_stream::connect("127.0.0.1", port);
  const std::string message = "hello from client " + std::to_string(index) + "\n";
  char buf[256];
  while (true) {
    co_await conn.write_all(std::as_bytes(std::span(message)));
    std::size_t got = 0;
    while (got < message.size()) {
      const std::size_t n = co_await conn.read(std::as_writable_bytes(std::span(buf)));
      if (n == 0) co_return;
      got += n;
    }
    co_await gprofid::sleep_for(10ms * (index + 1));
  }
}

gprofid::task<void> main_task(int clients, int seconds) {
  auto listener = gprofid::tcp_listener::listen("127.0.0.1", 0);
  const std::uint16_t port = listener.local_port();
  std::fprintf(stderr, "echo_server: listening on 127.0.0.1:%u\n", port);
  gprofid::go(serve(std::move(listener)));
  for (int i = 0; i < clients; ++i) gprofid::go(client(i, port));
  if (seconds > 0) {
    co_await gprofid::sleep_for(std::chrono::seconds(seconds));
  } else {
    co_await gprofid::make_chan<int>().recv();  // forever: until a signal ends the process
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int clients = argc > 1 ? std::atoi(argv[1]) : 4;
  const int seconds = argc > 2 ? std::atoi(argv[2]) : 0;
  gprofid::runtime rt;
  rt.run(main_task(clients, seconds));
  return 0;
}
