// write_pair_json writes valid JSON, byte for byte as nlohmann's dump() prints its document
// (pair_to_json parses it; diff_text_test checks what the document says).
#include <doctest/doctest.h>

#include <limits>
#include <sstream>

#include "gprofid/analysis/diff_json.hpp"

namespace gprofid {
namespace {

constexpr std::int64_t sec = 1'000'000'000;

std::string dumped(const pair_diff& d, const symbol_tables& t) {
  return pair_to_json(d, t).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string streamed(const pair_diff& d, const symbol_tables& t) {
  std::ostringstream out;
  write_pair_json(out, d, t);
  return out.str();
}

goroutine_sample g(std::uint64_t id, std::uint32_t stack, goroutine_state st, wait_reason r) {
  return {.id = id, .parent_id = 1, .site = 0, .stack = stack, .state = st, .reason = r};
}

TEST_CASE("write_pair_json prints as nlohmann would: every list, waits_on, hostile text") {
  symbol_tables t;
  // Names with quotes, controls (\b and \f as nlohmann writes them), UTF-8, DEL and invalid UTF-8.
  t.sites = {{"main()", "/src/main.cpp", 30}, {"sp\"awn\b\f\x01", "/\xc3\xa9t\xc3\xa9.cpp", 2}};
  t.frames = {{"worker(int)", "/src/w.cpp", 12},
              {"bad\xff\xfe utf8 \xe2\x82", "/src/\x7f.cpp", 15},
              {"lock\x1b[2J()\n\t\r\\", "/src/m.cpp", 7}};
  t.stacks = {{0}, {1, 0}, {2, 9}, {}};  // frame 9 is undefined: null
  auto labels = std::make_shared<const label_set>(
      label_set{{"k\x02y", "v\xff"}, {"req", "4\"2"}, {"\xe2\x9c\x93", ""}});

  wait_object fd{.id = 0x20, .kind = wait_object_kind::fd};
  fd.fd = -3;
  fd.write = true;
  wait_object timer{.id = 0x30, .kind = wait_object_kind::timer};
  timer.when_ns = 2 * sec + 5;
  timer.period_ns = -1;
  wait_object ch{.id = 0x10, .kind = wait_object_kind::channel};
  ch.timer = 0x30;
  wait_object plain{.id = 0x40, .kind = wait_object_kind::channel};

  sample a{.seq = 3, .time_ns = sec};
  sample b{.seq = std::numeric_limits<std::uint64_t>::max(), .time_ns = 2 * sec};
  auto add = [](sample& s, goroutine_sample x) { s.goroutines.push_back(x); };
  // 2: exits, waiting on a timer; 3: running in both without a resume (never yielded);
  // 4: stuck on the fd; 5: state and stack change onto a channel with a timer; 6: stack
  // change; 7, 8, 9: created (on the timer itself, a plain channel, an undefined site).
  goroutine_sample e = g(2, 1, goroutine_state::waiting, wait_reason::sleep);
  e.blocked_on = 0x30;
  e.labels = labels;
  e.created_ns = std::numeric_limits<std::int64_t>::min();
  add(a, e);
  goroutine_sample hog = g(3, 0, goroutine_state::running, wait_reason::none);
  hog.resumes = 7;
  add(a, hog);
  add(b, hog);
  goroutine_sample io = g(4, 3, goroutine_state::waiting, wait_reason::io_wait);
  io.blocked_on = 0x20;
  io.wait_ns = sec;
  add(a, io);
  io.wait_ns = 2 * sec;
  add(b, io);
  goroutine_sample m = g(5, 0, goroutine_state::runnable, wait_reason::none);
  add(a, m);
  m = g(5, 2, goroutine_state::waiting, wait_reason::chan_receive);
  m.blocked_on = 0x10;
  m.labels = labels;
  m.site = 1;
  add(b, m);
  goroutine_sample s = g(6, 0, goroutine_state::waiting, wait_reason::mutex_lock);
  add(a, s);
  s.stack = 1;
  add(b, s);
  goroutine_sample c = g(7, 0, goroutine_state::waiting, wait_reason::sleep);
  c.blocked_on = 0x30;
  add(b, c);
  c = g(8, 1, goroutine_state::waiting, wait_reason::chan_send);
  c.blocked_on = 0x40;
  add(b, c);
  c = g(9, 7, goroutine_state::runnable, wait_reason::none);  // stack 7 undefined: []
  c.site = 99;
  add(b, c);
  a.objects = {ch, fd, timer};
  b.objects = {ch, fd, timer, plain};

  const pair_diff d = diff_samples(a, b, t);
  REQUIRE(d.created.size() == 3);
  REQUIRE(d.exited.size() == 1);
  REQUIRE(d.state_changes.size() == 1);
  REQUIRE(d.stack_changes.size() == 2);
  REQUIRE(d.stuck.size() == 1);
  REQUIRE(d.never_yielded.size() == 1);
  const std::string want = dumped(d, t);
  CHECK(want.find("waits_on") != std::string::npos);
  CHECK(want.find("\\b\\f") != std::string::npos);
  CHECK(streamed(d, t) == want);

  // An empty pair, and one the other way round (exits on the fd, the timer channel).
  CHECK(streamed(diff_samples(sample{}, sample{}, t), t) == dumped(diff_samples({}, {}, t), t));
  const pair_diff back = diff_samples(b, a, t);
  CHECK(streamed(back, t) == dumped(back, t));
}

TEST_CASE("diff_json_writer streams pairs as their documents would read") {
  symbol_tables t;
  t.sites = {{"main()", "/src/main.cpp", 30}};
  t.frames = {{"f()", "/f.cpp", 1}};
  t.stacks = {{0}};
  sample a{.seq = 0, .time_ns = 0, .goroutines = {g(1, 0, goroutine_state::running, {})}};
  sample b{.seq = 1, .time_ns = sec, .goroutines = {g(2, 0, goroutine_state::runnable, {})}};
  const pair_diff d = diff_samples(a, b, t);
  for (const bool lines : {false, true}) {
    std::ostringstream out;
    diff_json_writer w(out, lines, {{.path = "r", .pid = 1}});
    w.pair(d, t);
    w.pair(d, t);
    w.finish();
    const std::string text = out.str();
    const std::string one = dumped(d, t);
    CHECK(text.find(lines ? one + "\n" + one + "\n" : one + ",\n" + one) != std::string::npos);
  }
}

}  // namespace
}  // namespace gprofid
