#include "gprofid/analysis/goroutine_dump.hpp"

#include <doctest/doctest.h>

#include <algorithm>

#include "gprofid/analysis/text_escape.hpp"
#include "gprofid/labels.hpp"

namespace gprofid {
namespace {

symbol_tables make_tables() {
  symbol_tables t;
  t.sites = {{"", "", 0}, {"main()", "/src/main.cpp", 30}};
  t.frames = {{"main()", "/src/main.cpp", 31}, {"worker(int)", "/src/w.cpp", 12}};
  t.stacks = {{0}, {1}};
  return t;
}

sample make_sample() {
  sample s;
  s.goroutines.push_back({.id = 1, .site = 0, .stack = 0, .state = goroutine_state::running});
  for (std::uint64_t id : {18, 19}) {
    s.goroutines.push_back({.id = id,
                            .parent_id = 1,
                            .site = 1,
                            .stack = 1,
                            .state = goroutine_state::waiting,
                            .reason = wait_reason::chan_receive,
                            .wait_ns = 3'000'000'000});
  }
  s.goroutines.push_back(
      {.id = 20, .parent_id = 19, .site = 1, .stack = 1, .state = goroutine_state::runnable});
  s.goroutines.push_back(
      {.id = 30, .parent_id = 7, .site = 1, .stack = 1, .state = goroutine_state::runnable});
  return s;
}

TEST_CASE("show prints Go debug=2 tracebacks") {
  auto t = make_tables();
  sample s = make_sample();
  s.goroutines[1].labels = with_label(nullptr, "request_id", "7");
  std::string dump = format_goroutine_dump(s, t);
  CHECK(dump.starts_with("goroutine 1 [running]:\nmain()\n\t/src/main.cpp:31\n\ngoroutine 18"));
  CHECK(dump.find("goroutine 18 [chan receive, 3.0s]:\nlabels: {request_id=7}\nworker(int)\n"
                  "\t/src/w.cpp:12\ncreated by main() in goroutine 1\n\t/src/main.cpp:30\n") !=
        std::string::npos);
}

TEST_CASE("show names the timer or descriptor a goroutine waits on") {
  auto t = make_tables();
  sample s = make_sample();
  s.time_ns = 1'000'000'000;
  wait_object fd;
  fd.id = 0x20;
  fd.kind = wait_object_kind::fd;
  fd.fd = 7;
  wait_object timer;
  timer.id = 0x30;
  timer.kind = wait_object_kind::timer;
  timer.when_ns = 1'080'000'000;
  timer.period_ns = 100'000'000;
  s.objects = {fd, timer};
  s.goroutines[1].reason = wait_reason::io_wait;
  s.goroutines[1].blocked_on = 0x20;
  s.goroutines[2].reason = wait_reason::sleep;
  s.goroutines[2].blocked_on = 0x30;
  const std::string dump = format_goroutine_dump(s, t);
  CHECK(dump.find("goroutine 18 [IO wait, 3.0s]:\nwaits on: fd 7 (read)\nworker(int)\n") !=
        std::string::npos);
  CHECK(dump.find("goroutine 19 [sleep, 3.0s]:\nwaits on: timer, fires in 80ms, every 100ms\n") !=
        std::string::npos);
  s.time_ns = 1'100'000'000;  // past its deadline
  CHECK(format_wait_detail(s, s.goroutines[2]) == "timer, due 20ms ago, every 100ms");
  CHECK(format_wait_detail(s, s.goroutines[0]).empty());  // running: waits on nothing
}

TEST_CASE("show --group merges identical stacks with counts and ids") {
  auto t = make_tables();
  std::string g = format_grouped_dump(make_sample(), t);
  CHECK(g.starts_with("goroutine profile: total 5\n"));
  CHECK(g.find("\n2 goroutines [chan receive, 3.0s]: 18 19\nworker(int)\n\t/src/w.cpp:12\n"
               "created by main() in goroutine 1\n") != std::string::npos);
  // Different parents: all named.
  CHECK(g.find("\n2 goroutines [runnable]: 20 30\nworker(int)\n\t/src/w.cpp:12\n"
               "created by main() in goroutines 7, 19\n") != std::string::npos);
  CHECK(g.find("1 goroutine [running]: 1\n") != std::string::npos);
}

TEST_CASE("show --group keeps labels: shared ones once, the rest after each id") {
  auto t = make_tables();
  sample s = make_sample();
  s.goroutines[1].labels = with_label(with_label(nullptr, "tenant", "a"), "request_id", "7");
  s.goroutines[2].labels = with_label(nullptr, "tenant", "a");
  std::string g = format_grouped_dump(s, t);
  CHECK(g.find("\n2 goroutines [chan receive, 3.0s]: 18{request_id=7} 19\nlabels: {tenant=a}\n"
               "worker(int)\n") != std::string::npos);
  s.goroutines[2].labels = with_label(nullptr, "tenant", "b");
  g = format_grouped_dump(s, t);
  CHECK(g.find(": 18{request_id=7, tenant=a} 19{tenant=b}\nworker(int)\n") != std::string::npos);
}

TEST_CASE("show --tree nests children under parents; orphans are roots") {
  auto t = make_tables();
  std::string tree = format_goroutine_tree(make_sample(), t);
  CHECK(tree ==
        "goroutine 1 [running] main() /src/main.cpp:31\n"
        "├─ goroutine 18 [chan receive, 3.0s] worker(int) /src/w.cpp:12\n"
        "└─ goroutine 19 [chan receive, 3.0s] worker(int) /src/w.cpp:12\n"
        "   └─ goroutine 20 [runnable] worker(int) /src/w.cpp:12\n"
        "goroutine 30 [runnable] worker(int) /src/w.cpp:12  (parent 7 gone)\n");
}

TEST_CASE("show --tree walks a 100k-deep spawn chain without recursion, indentation capped") {
  auto t = make_tables();
  sample s;
  constexpr std::uint64_t depth = 100'000;
  for (std::uint64_t id = 1; id <= depth; ++id) {
    s.goroutines.push_back(
        {.id = id, .parent_id = id - 1, .site = 1, .stack = 1, .state = goroutine_state::runnable});
  }
  const std::string tree = format_goroutine_tree(s, t);
  CHECK(std::count(tree.begin(), tree.end(), '\n') == static_cast<std::ptrdiff_t>(depth));
  CHECK(tree.find("[depth 99999] goroutine 100000 [runnable]") != std::string::npos);
  // Linear in the depth: each line's indentation stops growing past 64 levels.
  CHECK(tree.size() < depth * 300);
}

TEST_CASE("untrusted text is escaped for the terminal") {
  CHECK(escape_text("plain f(int) é") == "plain f(int) é");
  CHECK(is_plain_text("héllo"));
  CHECK(escape_text("a\nb\tc\x1b[31m") == "a\\nb\\tc\\x1b[31m");
  CHECK(escape_text("bad\xff\xc3") == "bad\\xff\\xc3");
  CHECK(escape_text("\xc2\x9b") == "\\x9b");                // C1 CSI
  CHECK(escape_text("\xed\xa0\x80") == "\\xed\\xa0\\x80");  // a surrogate is invalid
  CHECK_FALSE(is_plain_text("\x7f"));

  symbol_tables t;
  t.sites = {{"evil\x1b]0;title\x07", "f.cpp", 1}};
  t.frames = {{"f\x1b[2J", "f.cpp", 2}};
  t.stacks = {{0}};
  sample s;
  s.goroutines.push_back({.id = 2,
                          .parent_id = 1,
                          .site = 0,
                          .stack = 0,
                          .labels = with_label(nullptr, "k\n", "v\x1b")});
  std::string dump = format_goroutine_dump(s, t);
  CHECK(dump.find('\x1b') == std::string::npos);
  CHECK(dump.find("f\\x1b[2J") != std::string::npos);
  CHECK(dump.find("labels: {k\\n=v\\x1b}") != std::string::npos);
}

}  // namespace
}  // namespace gprofid
