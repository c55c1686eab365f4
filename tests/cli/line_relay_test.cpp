#include "cli/line_relay.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <string>

namespace {

// A pipe whose read end collects what the relay writes.
struct sink {
  int fds[2];
  sink() { REQUIRE(::pipe(fds) == 0); }
  ~sink() {
    ::close(fds[0]);
    if (fds[1] >= 0) ::close(fds[1]);
  }
  std::string drain() {
    ::close(fds[1]);
    fds[1] = -1;
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
    return out;
  }
};

}  // namespace

TEST_CASE("line_relay forwards whole lines only, counting samples and dropping end lines") {
  sink out;
  gprofid::cli::line_relay relay(out.fds[1]);
  relay.feed("{\"type\":\"header\",\"version\":1}\n{\"type\":\"sam");
  CHECK(relay.saw_header());
  CHECK(relay.samples() == 0);
  CHECK(relay.pending() == 12);
  relay.feed("ple\",\"seq\":0}\n{\"type\":\"site\",\"id\":0}\n");
  relay.feed("{\"type\":\"sample\",\"seq\":1}\n{\"type\":\"end\",\"samples\":2}\n{\"type\":\"sa");
  CHECK(relay.samples() == 2);
  CHECK(relay.pending() == 11);
  CHECK(out.drain() ==
        "{\"type\":\"header\",\"version\":1}\n{\"type\":\"sample\",\"seq\":0}\n"
        "{\"type\":\"site\",\"id\":0}\n{\"type\":\"sample\",\"seq\":1}\n");
}

TEST_CASE("line_relay does not mistake a type with a common prefix") {
  sink out;
  gprofid::cli::line_relay relay(out.fds[1]);
  relay.feed("{\"type\":\"samples\"}\n{\"type\":\"ending\"}\n");
  CHECK(relay.samples() == 0);
  CHECK(out.drain() == "{\"type\":\"samples\"}\n{\"type\":\"ending\"}\n");
}
