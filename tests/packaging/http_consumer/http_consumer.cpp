// A program that starts the HTTP debug service itself (gprofid::gprofid_http, one call) on an
// ephemeral port, announced on stderr, and then waits until it is killed, one goroutine parked.
#include <gprofid/channel.hpp>
#include <gprofid/debug_http/debug_http_service.hpp>
#include <gprofid/runtime.hpp>
#include <gprofid/this_goroutine.hpp>
#include <memory>

namespace {

gprofid::task<void> parked(gprofid::chan<int> c) {
  gprofid::this_goroutine::set_label("role", "parked");
  co_await c.recv();
}

gprofid::task<void> main_task() {
  auto c = gprofid::make_chan<int>();
  gprofid::go(parked(c));
  co_await c.recv();  // forever: nobody sends
}

}  // namespace

int main() {
  gprofid::runtime rt({.workers = 1});
  gprofid::debug_http_options o;
  o.announce = true;
  rt.add_service(std::make_unique<gprofid::debug_http_service>(o));
  rt.run(main_task());
}
