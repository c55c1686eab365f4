// Compiled (syntax only) by nodiscard_test.sh, never linked: every line marked "discarded" must
// draw an unused-result warning, so that forgetting co_await does not compile silently; the
// (void) casts below must not.
#include <chrono>

#include <gprofid/channel.hpp>
#include <gprofid/event.hpp>
#include <gprofid/mutex.hpp>
#include <gprofid/net.hpp>
#include <gprofid/select.hpp>
#include <gprofid/sleep.hpp>
#include <gprofid/this_goroutine.hpp>
#include <gprofid/timer_channel.hpp>
#include <gprofid/wait_group.hpp>

namespace gprofid {

using namespace std::chrono_literals;

task<int> answer() {
  co_return 42;
}

task<void> forgets_co_await(chan<int> ch, mutex& m, wait_group& wg, event& e, io_handle& h,
                            tcp_listener& l, tcp_stream& s) {
  sleep_for(1s);                          // discarded
  sleep_until(timer_clock::now());        // discarded
  yield();                                // discarded
  ch.send(1);                             // discarded
  ch.recv();                              // discarded
  m.lock();                               // discarded
  m.scoped_lock();                        // discarded
  wg.wait();                              // discarded
  e.wait();                               // discarded
  h.wait(io_direction::read);             // discarded
  after(1s);                              // discarded
  select(recv_case(ch), default_case());  // discarded
  answer();                               // discarded
  tcp_stream::connect("127.0.0.1", 1);    // discarded
  l.accept();                             // discarded
  s.read({});                             // discarded
  s.write_all({});                        // discarded
  (void)sleep_for(1s);
  (void)yield();
  co_return;
}

}  // namespace gprofid
