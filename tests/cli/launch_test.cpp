#include "cli/launch.hpp"

#include <doctest/doctest.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>

#include <string>

using gprofid::cli::child_process;
using gprofid::cli::launch_error;

namespace {

std::string read_all(child_process& c) {
  std::string out;
  char buf[256];
  while (true) {
    pollfd p{c.recording_fd(), POLLIN, 0};
    REQUIRE(::poll(&p, 1, 5000) == 1);
    const ssize_t n = ::read(c.recording_fd(), buf, sizeof buf);
    if (n <= 0) return out;
    out.append(buf, static_cast<std::size_t>(n));
  }
}

}  // namespace

TEST_CASE("a launched program writes to the descriptor named by GPROFID_RECORD_FD") {
  auto child = child_process::launch(
      {"/bin/sh", "-c", "echo \"$GREETING\" >&$GPROFID_RECORD_FD; exit 3"}, {{"GREETING", "hi"}});
  CHECK(read_all(child) == "hi\n");
  const auto how = child.wait_or_kill(std::chrono::seconds(5));
  CHECK(how.exit_status == 3);
  CHECK(!how.signal);
}

TEST_CASE("a program killed by a signal reports the signal") {
  auto child = child_process::launch({"/bin/sh", "-c", "kill -TERM $$"}, {});
  const auto how = child.wait_or_kill(std::chrono::seconds(5));
  CHECK(how.signal == SIGTERM);
  CHECK(gprofid::cli::describe(how).find("signal 15") == 0);
}

TEST_CASE("missing or unrunnable programs are one clear error") {
  CHECK_THROWS_WITH_AS(child_process::launch({"./surely-not-here"}, {}),
                       "./surely-not-here: No such file or directory", launch_error);
  char plain[] = "/tmp/gprofid-launch-test-XXXXXX";
  const int fd = ::mkstemp(plain);  // mode 0600: not executable
  REQUIRE(fd >= 0);
  ::close(fd);
  CHECK_THROWS_WITH_AS(child_process::launch({plain}, {}),
                       (std::string(plain) + ": not executable").c_str(), launch_error);
  ::unlink(plain);
  CHECK_THROWS_WITH_AS(child_process::launch({"/"}, {}), "/: is a directory", launch_error);
  CHECK_THROWS_AS(child_process::launch({"surely-not-a-command-anywhere"}, {}), launch_error);
  CHECK(gprofid::cli::resolve_program("sh").ends_with("/sh"));
}
