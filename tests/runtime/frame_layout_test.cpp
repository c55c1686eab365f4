// co_await inside conditions: the forms that work on every compiler, and the GCC 12 frame layout
// that cannot be resumed, reported at once instead of hanging (promise_base::note_frame).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <string>

#include "gprofid/channel.hpp"
#include "gprofid/runtime.hpp"

namespace gprofid {
namespace {

// Sends 1..3, then closes; each drain below must see exactly those.
task<void> feed(chan<int> ch) {
  for (int i = 1; i <= 3; ++i) co_await ch.send(i);
  ch.close();
}

task<void> drain_declared(chan<int> ch, int& sum) {
  while (auto v = co_await ch.recv()) sum += *v;
}

task<void> drain_bound(chan<int> ch, int& sum) {
  for (;;) {
    auto v = co_await ch.recv();
    if (!v) break;
    sum += *v;
  }
}

task<void> drain_local(chan<int> param, int& sum) {
  chan<int> ch = param;  // a local, not the parameter, in the condition
  while (true) {
    if (auto v = co_await ch.recv(); v) {
      sum += *v;
    } else {
      break;
    }
  }
}

template <class Drain>
int drained_sum(Drain drain) {
  runtime rt({.workers = 1});
  int sum = 0;
  rt.run([](Drain drain, int& sum) -> task<void> {
    auto ch = make_chan<int>();
    go(drain(ch, sum));
    co_await feed(ch);
    co_await yield();
  }(drain, sum));
  return sum;
}

TEST_CASE("co_await in a declaration or bound first works in conditions") {
  CHECK(drained_sum(drain_declared) == 6);
  CHECK(drained_sum(drain_bound) == 6);
  CHECK(drained_sum(drain_local) == 6);
}

// The form GCC 12 miscompiles: the parameter `ch` used in a co_await in the loop condition.
task<void> drain_in_condition(chan<int> ch, int& sum) {
  while (co_await ch.recv()) ++sum;
}

TEST_CASE("a frame GCC 12 lays out unresumably is reported by name, not left to hang") {
  int out[2];
  REQUIRE(pipe(out) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::signal(SIGABRT, SIG_DFL);
    alarm(10);  // a hang shows up as SIGALRM, not a stuck test
    dup2(out[1], STDERR_FILENO);
    std::_Exit(drained_sum(drain_in_condition) == 3 ? 0 : 1);
  }
  close(out[1]);
  std::string err;
  char buf[512];
  for (ssize_t n; (n = read(out[0], buf, sizeof buf)) > 0;)
    err.append(buf, static_cast<std::size_t>(n));
  close(out[0]);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGABRT);
  CHECK(err.find("drain_in_condition") != std::string::npos);
  CHECK(err.find("frame_layout_test.cpp") != std::string::npos);
  CHECK(err.find("GCC 12 bug") != std::string::npos);
#else
  // A compiler without the bug runs it.
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(err.empty());
#endif
}

}  // namespace
}  // namespace gprofid
