#include "gprofid/recorder/pprof_goroutine.hpp"

#include <doctest/doctest.h>

#include <string>

#include "gprofid/analysis/export_pprof.hpp"
#include "gprofid/channel.hpp"
#include "gprofid/recorder/count_profile_text.hpp"
#include "gprofid/recorder/profile.hpp"
#include "gprofid/runtime.hpp"
#include "tests/sampler/test_support.hpp"

namespace gprofid {
namespace {

using testing::gate;

task<void> parked(gate& g) {
  co_await g.wait();
}

// Every kind of value the profile carries: addresses known and not, a waiting goroutine and a
// running one, labels, a parent of 0, an empty stack, a frame shared by two stacks.
profile handmade() {
  profile p;
  p.tables.sites = {{"main()", "/src/m.cpp", 3, 0x401000}, {"spawn(int)", "/src/s.cpp", 9, 0}};
  p.tables.frames = {{"worker(int)", "/src/w.cpp", 12, 0x4011a0},
                     {"main_task()", "/src/m.cpp", 30, 0},
                     {"worker(int)", "/src/w.cpp", 14, 0x4011c8}};
  p.tables.stacks = {{0, 1}, {2, 1}, {}};
  p.snapshot.seq = 7;
  p.snapshot.time_ns = 123'456'789;
  const label_ptr labels = with_label(with_label(nullptr, "role", "worker"), "shard", "\"7\"");
  p.snapshot.goroutines = {
      {.id = 1, .parent_id = 0, .site = 0, .stack = 0, .state = goroutine_state::running},
      {.id = 2,
       .parent_id = 1,
       .site = 1,
       .stack = 1,
       .state = goroutine_state::waiting,
       .reason = wait_reason::chan_receive,
       .wait_ns = 5'000'000'000,
       .labels = labels},
      {.id = 3,
       .parent_id = 1,
       .site = 1,
       .stack = 1,
       .state = goroutine_state::waiting,
       .reason = wait_reason::chan_receive,
       .wait_ns = 0,
       .labels = labels},
      {.id = 1ULL << 40, .parent_id = 2, .site = 1, .stack = 2, .state = goroutine_state::runnable},
  };
  return p;
}

TEST_CASE("encode_pprof_goroutine_profile: the offline exporter's bytes, without libprotobuf") {
  const profile p = handmade();
  const pprof_source dated{.start_unix_ns = 1'700'000'000'000'000'000,
                           .program = "/bin/server",
                           .command_line = "/bin/server --port 80"};
  CHECK(encode_pprof_goroutine_profile(p.tables, p.snapshot, dated) ==
        pprof_goroutine_profile_uncompressed(p.tables, p.snapshot, dated));
  CHECK(encode_pprof_goroutine_profile(p.tables, p.snapshot) ==
        pprof_goroutine_profile_uncompressed(p.tables, p.snapshot));
  sample empty;
  CHECK(encode_pprof_goroutine_profile(p.tables, empty) ==
        pprof_goroutine_profile_uncompressed(p.tables, empty));
}

TEST_CASE("encode_pprof_goroutine_profile: a live runtime's profile, byte for byte") {
  runtime rt({.workers = 1});
  gate g;
  profile p;
  rt.run([](runtime& rt, gate& g, profile& p) -> task<void> {
    for (int i = 0; i < 3; ++i) {
      if (i == 1) this_goroutine::set_label("role", "labelled");
      go(parked(g));
    }
    co_await yield();
    p = goroutine_profile_with_id(rt);
    g.release();
  }(rt, g, p));
  REQUIRE(p.snapshot.goroutines.size() == 4);
  CHECK(encode_pprof_goroutine_profile(p.tables, p.snapshot, {.program = "x"}) ==
        pprof_goroutine_profile_uncompressed(p.tables, p.snapshot, {.program = "x"}));
}

task<void> leaks_itself() {
  co_await make_chan<int>().recv();  // the only handle is in this frame: leaked for good
}

TEST_CASE("encode_pprof_goroutineleak_profile: the export's leak profile, byte for byte") {
  runtime rt({.workers = 1});
  gate g;
  profile p;
  rt.run([](runtime& rt, gate& g, profile& p) -> task<void> {
    go(parked(g));
    go(leaks_itself());
    co_await yield();
    p = goroutine_profile_with_id(rt);
    g.release();
  }(rt, g, p));
  REQUIRE(p.snapshot.goroutines.size() == 3);
  const std::string leak =
      encode_pprof_goroutineleak_profile(p.tables, p.snapshot, {.program = "x"});
  CHECK(leak == pprof_goroutineleak_profile_uncompressed(p.tables, p.snapshot, {.program = "x"}));
  CHECK(leak.find("closed-set") != std::string::npos);  // the one leaked goroutine is in it
  const profile none = handmade();                      // no wait-for graph: nothing proven
  CHECK(encode_pprof_goroutineleak_profile(none.tables, none.snapshot) ==
        pprof_goroutineleak_profile_uncompressed(none.tables, none.snapshot));
}

TEST_CASE("format_count_profile: Go's debug=1 text, same stack and labels counted together") {
  const profile p = handmade();
  CHECK(format_count_profile(p.snapshot, p.tables) ==
        "goroutine profile: total 4\n"
        "2 @ 0x4011c8 0x0\n"
        "# labels: {\"role\":\"worker\",\"shard\":\"\\\"7\\\"\"}\n"
        "#\t0x4011c8\tworker(int)\t/src/w.cpp:14\n"
        "#\t0x0\tmain_task()\t/src/m.cpp:30\n"
        "\n"
        "1 @\n"
        "\n"
        "1 @ 0x4011a0 0x0\n"
        "#\t0x4011a0\tworker(int)\t/src/w.cpp:12\n"
        "#\t0x0\tmain_task()\t/src/m.cpp:30\n"
        "\n");
}

}  // namespace
}  // namespace gprofid
