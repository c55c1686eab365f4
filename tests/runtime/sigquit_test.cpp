#include "gprofid/sigquit.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include "gprofid/event.hpp"
#include "gprofid/runtime.hpp"

namespace gprofid {
namespace {

// A pipe whose read end never blocks, to collect what the dumper writes.
struct capture_pipe {
  int read_fd = -1;
  int write_fd = -1;
  capture_pipe() {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    read_fd = fds[0];
    write_fd = fds[1];
    REQUIRE(::fcntl(read_fd, F_SETFL, O_NONBLOCK) == 0);
  }
  ~capture_pipe() {
    ::close(read_fd);
    ::close(write_fd);
  }
  std::string drain() const {
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::read(read_fd, buf, sizeof buf)) > 0;) out.append(buf, n);
    return out;
  }
};

task<void> blocked_on_event(event& e) {
  co_await e.wait();
}

TEST_CASE("sigquit: SIGQUIT dumps every goroutine and the program keeps running") {
  capture_pipe out;
  runtime rt({.workers = 1});
  auto owned = std::make_unique<sigquit_dumper>(sigquit_options{.fd = out.write_fd});
  sigquit_dumper& dumper = *owned;
  rt.add_service(std::move(owned));
  bool finished = false;
  rt.run([](sigquit_dumper& dumper, bool& finished) -> task<void> {
    event release;
    go(blocked_on_event(release));
    co_await yield();  // let it park
    REQUIRE(::kill(::getpid(), SIGQUIT) == 0);
    // The dump is written by the dumper's own thread; spin rather than sleep.
    while (dumper.dumps() == 0) co_await yield();
    release.set();
    co_await yield();
    finished = true;
  }(dumper, finished));
  CHECK(finished);

  const std::string dump = out.drain();
  INFO(dump);
  CHECK(dump.starts_with("SIGQUIT: goroutine dump\n\n"));
  CHECK(dump.find("goroutine 1 [") != std::string::npos);
  CHECK(dump.find("goroutine 2 [event") != std::string::npos);
  CHECK(dump.find("blocked_on_event(gprofid::event&)\n\t") != std::string::npos);
  CHECK(dump.find("sigquit_test.cpp:") != std::string::npos);
}

TEST_CASE("sigquit: stop does not hang without a signal; the service can be restarted") {
  {
    runtime rt({.workers = 1});
    rt.add_service(std::make_unique<sigquit_dumper>());
  }  // the destructor stops the service
  capture_pipe out;
  runtime rt({.workers = 1});
  auto owned = std::make_unique<sigquit_dumper>(sigquit_options{.fd = out.write_fd});
  sigquit_dumper& dumper = *owned;
  rt.add_service(std::move(owned));
  // Only one dumper can own SIGQUIT.
  CHECK_THROWS_AS(rt.add_service(std::make_unique<sigquit_dumper>()), std::logic_error);
  rt.run([](sigquit_dumper& dumper) -> task<void> {
    REQUIRE(::kill(::getpid(), SIGQUIT) == 0);
    while (dumper.dumps() == 0) co_await yield();
  }(dumper));
  // Main spins with yield, so the dump catches it running or runnable.
  CHECK(out.drain().find("goroutine 1 [") != std::string::npos);
}

TEST_CASE("sigquit: exit_after_dump exits with status 2 like Go") {
  capture_pipe out;
  std::fflush(nullptr);  // or the child's exit may write our buffered output a second time
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::alarm(10);  // a safety net: a hang shows up as a SIGALRM death, not a stuck test
    runtime rt({.workers = 1});
    rt.add_service(std::make_unique<sigquit_dumper>(
        sigquit_options{.fd = out.write_fd, .exit_after_dump = true}));
    ::kill(::getpid(), SIGQUIT);
    for (;;) ::pause();
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 2);
  CHECK(out.drain().starts_with("SIGQUIT: goroutine dump\n\n"));
}

}  // namespace
}  // namespace gprofid
