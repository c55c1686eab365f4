#include "cli/line_relay.hpp"

#include <poll.h>

#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "cli/launch.hpp"
#include "gprofid/recording/recording_format_v2.hpp"
#include "gprofid/recording/v2_blocks.hpp"

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
  relay.feed("{\"type\":\"header\"}\n{\"type\":\"samples\"}\n{\"type\":\"ending\"}\n");
  CHECK(relay.samples() == 0);
  CHECK(relay.rejected_lines() == 2);
  CHECK(out.drain() == "{\"type\":\"header\"}\n");
}

TEST_CASE("line_relay relays only recording lines, header first and once, nothing after the end") {
  sink out;
  gprofid::cli::line_relay relay(out.fds[1]);
  relay.feed("x\n{\"type\":\"sample\",\"seq\":0}\n");                     // before any header
  relay.feed("{\"type\":\"header\"}\n{\"type\":\"sample\",\"seq\":0\n");  // no closing brace
  relay.feed("{\"type\":\"header\"}\n{\"type\":\"sample\",\"seq\":1}\n\x1b[2J\n");
  relay.feed("{\"type\":\"end\",\"samples\":1}\n{\"type\":\"sample\",\"seq\":2}\n");
  CHECK(relay.samples() == 1);
  CHECK(relay.saw_end());
  CHECK(relay.rejected_lines() == 6);
  CHECK(relay.first_rejected() == "line 1: \"x\" is not a recording line");
  CHECK(out.drain() == "{\"type\":\"header\"}\n{\"type\":\"sample\",\"seq\":1}\n");
}

TEST_CASE("line_relay relays the channel's first writer only, and names the others") {
  sink out;
  // The shell writes a header, then a child of it (another pid) writes a sample.
  auto child = gprofid::cli::child_process::launch(
      {"/bin/sh", "-c",
       "echo '{\"type\":\"header\"}' >&$GPROFID_RECORD_FD; "
       "(echo '{\"type\":\"sample\",\"seq\":9}' >&$GPROFID_RECORD_FD) & wait; "
       "echo '{\"type\":\"sample\",\"seq\":0}' >&$GPROFID_RECORD_FD"},
      {});
  gprofid::cli::line_relay relay(out.fds[1]);
  while (true) {
    pollfd p{child.recording_fd(), POLLIN, 0};
    REQUIRE(::poll(&p, 1, 5000) == 1);
    if (!relay.pump(child.recording_fd())) break;
  }
  CHECK(child.wait_or_kill(std::chrono::seconds(5)).exit_status == 0);
  CHECK(relay.owner() == child.pid());
  CHECK(relay.intruders().size() == 1);
  CHECK(relay.intruder_bytes() == 26);
  CHECK(relay.samples() == 1);
  CHECK(out.drain() == "{\"type\":\"header\"}\n{\"type\":\"sample\",\"seq\":0}\n");
}

TEST_CASE("line_relay drops a line that never ends instead of holding all of it") {
  sink out;
  gprofid::cli::line_relay relay(out.fds[1], 16);
  relay.feed("{\"type\":\"header\"}\n");
  relay.feed("aaaaaaaaaa");
  relay.feed("bbbbbbbbbb");  // 20 bytes and no newline yet: over the limit
  CHECK(relay.pending() == 0);
  relay.feed("cccccccccccccccccccccccc");
  relay.feed("cc\n{\"type\":\"sample\",\"seq\":0}\n");
  CHECK(relay.samples() == 1);
  CHECK(relay.rejected_lines() == 1);
  CHECK(relay.first_rejected() == "line 2: \"aaaaaaaaaa\" is longer than 16 bytes");
  CHECK(out.drain() == "{\"type\":\"header\"}\n{\"type\":\"sample\",\"seq\":0}\n");
}

TEST_CASE("line_relay forwards whole v2 blocks only, counting samples and dropping the end") {
  namespace v2 = gprofid::recording_format_v2;
  auto block = [](v2::block_type t, std::string_view payload) {
    std::string b;
    gprofid::v2_blocks::append(b, static_cast<std::uint8_t>(t), 0, payload);
    return b;
  };
  std::string preamble;
  gprofid::v2_blocks::append_preamble(preamble);
  const std::string header = block(v2::block_type::header, "h");
  const std::string sample0 = block(v2::block_type::sample, "s0");
  const std::string sample1 = block(v2::block_type::sample, "s1");
  const std::string end = block(v2::block_type::end, "e");
  std::string unknown;
  gprofid::v2_blocks::append(unknown, 9, 0, "?");
  sink out;
  gprofid::cli::line_relay relay(out.fds[1]);
  relay.feed(preamble.substr(0, 5));
  CHECK(relay.binary());
  relay.feed(preamble.substr(5) + header.substr(0, 4));
  CHECK_FALSE(relay.saw_header());  // nothing goes out before a whole block
  relay.feed(header.substr(4) + sample0 + unknown + sample1.substr(0, 3));
  CHECK(relay.saw_header());
  CHECK(relay.samples() == 1);
  CHECK(relay.pending() == 3);
  CHECK(relay.rejected_lines() == 1);
  relay.feed(sample1.substr(3) + end + sample0.substr(0, 2));
  CHECK(relay.samples() == 2);
  CHECK(relay.saw_end());
  CHECK(relay.pending() == 2);
  CHECK(out.drain() == preamble + header + sample0 + sample1);
}
