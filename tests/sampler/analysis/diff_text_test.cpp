#include "gprofid/analysis/diff_text.hpp"

#include <doctest/doctest.h>

#include <limits>
#include <sstream>

#include "gprofid/analysis/diff_json.hpp"

namespace gprofid {
namespace {

constexpr std::int64_t sec = 1'000'000'000;

symbol_tables make_tables() {
  symbol_tables t;
  t.sites = {{"main()", "/src/main.cpp", 30}};
  t.frames = {{"worker(int)", "/src/w.cpp", 12},
              {"worker(int)", "/src/w.cpp", 15},
              {"lock\x1b[2J()", "/src/m.cpp", 7}};
  t.stacks = {{0}, {1}, {2}};
  return t;
}

goroutine_sample w(std::uint64_t id, std::uint32_t stack, wait_reason r) {
  return {.id = id,
          .parent_id = 1,
          .site = 0,
          .stack = stack,
          .state = goroutine_state::waiting,
          .reason = r};
}

struct fixture {
  symbol_tables t = make_tables();
  sample a{.seq = 3,
           .time_ns = sec,
           .goroutines = {w(5, 2, wait_reason::mutex_lock), w(6, 0, wait_reason::chan_receive),
                          w(7, 0, wait_reason::chan_receive)}};
  sample b{.seq = 4,
           .time_ns = 2 * sec,
           .goroutines = {w(5, 2, wait_reason::mutex_lock), w(7, 1, wait_reason::chan_send),
                          w(8, 0, wait_reason::chan_receive), w(9, 0, wait_reason::chan_receive)}};
  pair_diff d = diff_samples(a, b, t);
};

TEST_CASE_FIXTURE(fixture, "text diff: header, markers, grouped stacks, aligned changes") {
  std::ostringstream out;
  write_pair_text(out, d, t);
  std::string s = out.str();
  CHECK(
      s.starts_with("=== sample 3 -> 4  (+1.0s -> +2.0s, 1.0s)  goroutines 3 -> 4  +2 -1 ~1 "
                    "state ~1 stack  1 stuck\n"));
  CHECK(s.find("created (2):\n  + 2 goroutines [chan receive]: 8, 9\n      worker(int)\n"
               "      \t/src/w.cpp:12\n      created by main() in goroutine 1\n") !=
        std::string::npos);
  CHECK(s.find("exited (1, between +1.0s and +2.0s):\n"
               "  - 1 goroutine [chan receive, lived at least 1.0s]: 6\n") != std::string::npos);
  CHECK(s.find("  ~ 7   chan receive -> chan send") != std::string::npos);
  CHECK(s.find("  ~ 7   worker(int) /src/w.cpp:12  ->  worker(int) /src/w.cpp:15\n") !=
        std::string::npos);
  CHECK(s.find("  ! 1 goroutine [sync.Mutex.Lock, stuck 1.0s]: 5\n") != std::string::npos);
  CHECK(s.find('\x1b') == std::string::npos);  // no colour, and the function name is escaped
  CHECK(s.find("lock\\x1b[2J()") != std::string::npos);

  std::ostringstream colored;
  write_pair_text(colored, d, t, {.color = true});
  CHECK(colored.str().find("\x1b[32m+\x1b[0m") != std::string::npos);
}

TEST_CASE_FIXTURE(fixture, "text diff: a group keeps each member's labels and parents") {
  sample c = b;
  c.seq = 5;
  c.goroutines.push_back(w(10, 0, wait_reason::chan_receive));
  c.goroutines.back().parent_id = 9;
  c.goroutines.back().labels = with_label(with_label(nullptr, "tenant", "t1"), "request", "r7");
  c.goroutines.push_back(w(11, 0, wait_reason::chan_receive));
  c.goroutines.back().labels = with_label(nullptr, "tenant", "t1");
  std::ostringstream out;
  write_pair_text(out, diff_samples(b, c, t), t);
  CHECK(out.str().find("  + 2 goroutines [chan receive]: 10{request=r7}, 11\n"
                       "      labels: {tenant=t1}\n      worker(int)\n      \t/src/w.cpp:12\n"
                       "      created by main() in goroutines 1, 9\n") != std::string::npos);
}

TEST_CASE_FIXTURE(fixture, "text diff: a wait that continues is listed once, then counted") {
  sample c = b;
  c.seq = 5;
  c.time_ns = 3 * sec;
  diff_engine engine;
  engine.next(a, b, t);
  std::ostringstream out;
  write_pair_text(out, engine.next(b, c, t), t);
  // 5 was listed in 3 -> 4; 8 and 9 begin continuing here (7 too, in its new wait).
  CHECK(out.str().find("stuck (4, 3 new):\n") != std::string::npos);
  CHECK(out.str().find("  ! 2 goroutines [chan receive, stuck 1.0s]: 8, 9\n") != std::string::npos);
  CHECK(out.str().find("]: 5\n") == std::string::npos);
  CHECK(out.str().find("  ! 1 still stuck, listed in an earlier pair (1 sync.Mutex.Lock), "
                       "longest 2.0s\n") != std::string::npos);

  // With --min-stuck, a wait is new in the pair where it reaches the threshold.
  sample e = c;
  e.seq = 6;
  e.time_ns = 4 * sec;
  goroutine_filter two_seconds;
  two_seconds.min_stuck_ns = 2 * sec;
  diff_engine slow(two_seconds);
  CHECK(slow.next(a, b, t).stuck.empty());
  const pair_diff p1 = slow.next(b, c, t);
  REQUIRE(p1.stuck.size() == 1);  // 5, stuck 2 s
  CHECK(p1.stuck[0].is_new);
  const pair_diff p2 = slow.next(c, e, t);
  REQUIRE(p2.stuck.size() == 4);  // 5 (3 s) and now 7, 8, 9 (2 s)
  CHECK_FALSE(p2.stuck[0].is_new);
  CHECK(p2.stuck[1].is_new);
}

TEST_CASE_FIXTURE(fixture, "a timer or fd wait is named in text and JSON (waits_on)") {
  wait_object fd;
  fd.id = 0x20;
  fd.kind = wait_object_kind::fd;
  fd.fd = 7;
  wait_object timer;
  timer.id = 0x30;
  timer.kind = wait_object_kind::timer;
  timer.when_ns = 2 * sec + 5'000'000;
  wait_object ch;
  ch.id = 0x10;
  ch.kind = wait_object_kind::channel;
  ch.timer = 0x30;
  sample c = b;
  c.objects = {ch, fd, timer};
  c.goroutines[1].reason = wait_reason::io_wait;  // 7: a state change
  c.goroutines[1].blocked_on = 0x20;
  c.goroutines[2].blocked_on = 0x10;  // 8: created, on a timer channel
  const pair_diff e = diff_samples(a, c, t);
  std::ostringstream out;
  write_pair_text(out, e, t);
  CHECK(out.str().find("chan receive -> IO wait [fd 7 (read)]") != std::string::npos);
  auto j = pair_to_json(e, t);
  CHECK(j["state_changes"][0]["after"]["waits_on"].dump() ==
        R"({"kind":"fd","id":"0x20","fd":7,"direction":"read"})");
  CHECK(j["created"][0]["waits_on"]["kind"] == "channel");
  CHECK(j["created"][0]["waits_on"]["timer"]["when_ns"] == 2 * sec + 5'000'000);
  CHECK_FALSE(j["created"][1].contains("waits_on"));  // 9: a plain channel
}

TEST_CASE_FIXTURE(fixture, "max_rows bounds each text section") {
  std::ostringstream out;
  write_pair_text(out, d, t, {.max_rows = 0});
  CHECK(out.str().find("more") == std::string::npos);
  sample big = b;
  for (std::uint64_t id = 10; id < 20; ++id) big.goroutines.push_back(w(id, 2, wait_reason::sleep));
  std::ostringstream limited;
  write_pair_text(limited, diff_samples(a, big, t), t, {.max_rows = 1});
  CHECK(limited.str().find("... 1 more groups") != std::string::npos);
}

TEST_CASE_FIXTURE(fixture, "JSON pair and summary use the documented field names") {
  auto j = pair_to_json(d, t);
  CHECK(j["type"] == "pair");
  CHECK(j["from"]["seq"] == 3);
  CHECK(j["counts"]["created"] == 2);
  CHECK(j["created"][0]["id"] == 8);
  CHECK(j["created"][0]["stack"][0]["file"] == "/src/w.cpp");
  CHECK(j["exited"][0]["lifetime_ns"] == sec);
  CHECK(j["exited"][0]["lifetime_max_ns"] == 2 * sec);  // gone by the later sample
  CHECK(j["state_changes"][0]["before"]["wait_reason"] == "chan receive");
  CHECK(j["stack_changes"][0]["after"][0]["line"] == 15);
  CHECK(j["stuck"][0]["wait_reason"] == "sync.Mutex.Lock");
  CHECK(j["stuck"][0]["samples"] == 2);

  summary_builder sb;
  sb.add(a, t);
  sb.add(b, t);
  std::ostringstream out;
  diff_json_writer w(out, false, {{.path = "r.jsonl", .pid = 42}});
  w.pair(d, t);
  w.summary(sb.finish(), t);
  w.finish();
  auto doc = nlohmann::json::parse(out.str());
  CHECK(doc["format"] == "gprof-id-diff");
  CHECK(doc["version"] == 2);
  CHECK(doc["inputs"][0]["pid"] == 42);
  CHECK(doc["pairs"].size() == 1);
  CHECK(doc["summary"]["type"] == "summary");
  CHECK(doc["summary"]["counts"]["created"] == 2);
  CHECK(doc["summary"]["longest_stuck"][0]["id"] == 5);
  CHECK(doc["summary"]["longest_stuck"][0]["stuck"]["stack"][0]["function"] == "lock\x1b[2J()");
  for (const char* list :
       {"deadlocks", "leaks", "stuck", "growing", "never_yielded", "lost_wakeups", "background"}) {
    CHECK(doc["summary"][list].is_array());
    CHECK(doc["summary"]["omitted"][list] == 0);
  }

  std::ostringstream lines;
  diff_json_writer l(lines, true, {});
  l.pair(d, t);
  l.finish();
  std::istringstream in(lines.str());
  std::string line;
  std::vector<std::string> types;
  while (std::getline(in, line)) types.push_back(nlohmann::json::parse(line)["type"]);
  CHECK(types == std::vector<std::string>{"header", "pair"});
}

TEST_CASE("a diff of hostile times saturates in its pair, summary, text and JSON") {
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  constexpr auto min = std::numeric_limits<std::int64_t>::min();
  symbol_tables t = make_tables();
  goroutine_sample old = w(5, 0, wait_reason::chan_receive);
  old.created_ns = max;  // "created" after both samples: its lifetime is clamped, not wrapped
  old.wait_ns = min;
  goroutine_sample stuck = w(6, 2, wait_reason::mutex_lock);
  stuck.wait_ns = max;
  stuck.created_ns = min;
  sample a{.seq = 0, .time_ns = min, .goroutines = {old, stuck}};
  sample b{.seq = 1, .time_ns = max, .goroutines = {stuck}};
  pair_diff d = diff_samples(a, b, t);
  auto j = pair_to_json(d, t);
  REQUIRE(j["exited"].size() == 1);
  CHECK(j["exited"][0]["lifetime_ns"] == min);  // min - max, clamped at the limit
  CHECK(j["exited"][0]["lifetime_max_ns"] == 0);

  summary_builder sb;
  sb.add(a, t);
  sb.add(b, t);
  const diff_summary s = sb.finish();
  for (const auto& l : s.goroutines) {
    CHECK(l.lifetime_max_ns() >= l.lifetime_ns());
  }
  std::ostringstream text;
  write_pair_text(text, d, t, {.color = false});
  write_summary_text(text, s, t, {.color = false});
  CHECK(text.str().find("=== sample 0 -> 1") != std::string::npos);
  std::ostringstream out;
  diff_json_writer jw(out, false, {{.path = "r.jsonl", .pid = 1}});
  jw.pair(d, t);
  jw.summary(s, t);
  jw.finish();
  const auto doc = nlohmann::json::parse(out.str());
  for (const auto& e : doc["summary"]["longest_stuck"]) {
    CHECK(e["stuck"]["stuck_ns"].get<std::int64_t>() >= 0);
  }
}

}  // namespace
}  // namespace gprofid
