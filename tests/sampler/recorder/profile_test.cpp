#include "gprofid/recorder/profile.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "gprofid/runtime.hpp"
#include "tests/sampler/test_support.hpp"

namespace gprofid {
namespace {

using testing::gate;

constexpr unsigned blocked_line = __LINE__ + 2;
task<void> blocked_in(gate& g) {
  co_await g.wait();
}

constexpr unsigned outer_line = __LINE__ + 2;
task<void> outer(gate& g) {
  co_await blocked_in(g);
}

TEST_CASE("goroutine_profile_with_id: ids, states, sites, stacks, labels and times") {
  runtime rt({.workers = 1});
  gate g;
  sample s;
  symbolizer sym;
  unsigned spawn_line = 0;
  std::vector<std::uint64_t> children;
  rt.run([](runtime& rt, gate& g, sample& s, symbolizer& sym, unsigned& spawn_line,
            std::vector<std::uint64_t>& children) -> task<void> {
    for (int i = 0; i < 3; ++i) {
      if (i == 2) this_goroutine::set_label("role", "labelled");
      spawn_line = __LINE__ + 1;
      children.push_back(go(outer(g)));
    }
    co_await yield();  // every child runs up to the gate
    s = goroutine_profile_with_id(rt, sym);
    g.release();
  }(rt, g, s, sym, spawn_line, children));

  const symbol_tables& t = sym.tables();
  REQUIRE(s.goroutines.size() == 4);
  for (std::size_t i = 0; i < 4; ++i) CHECK(s.goroutines[i].id == i + 1);  // sorted by id
  CHECK(s.time_ns >= 0);
  CHECK(s.duration_ns >= 0);
  CHECK(s.pause_ns >= 0);

  const auto& main_g = s.goroutines[0];
  CHECK(main_g.state == goroutine_state::running);
  CHECK(main_g.reason == wait_reason::none);
  CHECK(main_g.wait_ns == 0);
  CHECK(main_g.parent_id == 0);

  for (std::size_t i = 0; i < 3; ++i) {
    const auto& c = *find_goroutine(s, children[i]);
    CAPTURE(c.id);
    CHECK(c.parent_id == 1);
    CHECK(c.state == goroutine_state::waiting);
    CHECK(c.reason == wait_reason::event);
    CHECK(c.wait_ns >= 0);
    CHECK(c.wait_ns <= s.time_ns);
    CHECK(c.created_ns >= 0);
    CHECK(c.created_ns <= s.time_ns);
    CHECK(c.resumes >= 1);
    REQUIRE(c.site < t.sites.size());
    CHECK(t.sites[c.site].line == spawn_line);
    CHECK(t.sites[c.site].file == __FILE__);
    REQUIRE(c.stack < t.stacks.size());
    const auto& frames = t.stacks[c.stack];
    REQUIRE(frames.size() == 2);
    CHECK(t.frames[frames[0]].function ==
          "gprofid::{anonymous}::blocked_in(gprofid::testing::gate&)");
    CHECK(t.frames[frames[0]].line == blocked_line);
    CHECK(t.frames[frames[0]].file == __FILE__);
    CHECK(t.frames[frames[0]].pc != 0);
    CHECK(t.frames[frames[1]].function == "gprofid::{anonymous}::outer(gprofid::testing::gate&)");
    CHECK(t.frames[frames[1]].line == outer_line);
    if (i == 2) {
      REQUIRE(c.labels);
      CHECK(*find_label(*c.labels, "role") == "labelled");
    } else {
      CHECK(!c.labels);
    }
  }
  // The three children share one site and one stack.
  CHECK(s.goroutines[1].site == s.goroutines[3].site);
  CHECK(s.goroutines[1].stack == s.goroutines[3].stack);
}

TEST_CASE("to_sample: goroutines sorted by id, whatever the order and spread of the ids") {
  // Few keys (std::sort), many close ids (one, two, three radix passes: ranges of 12, 17 and
  // 32 bits), ids far apart (std::sort).
  for (const auto& [count, step] : {std::pair<std::uint64_t, std::uint64_t>{50, 3},
                                    {300, 1},
                                    {3000, 1},
                                    {3000, 37},
                                    {3000, 1ull << 20},
                                    {3000, 1ull << 40}}) {
    INFO(count, " goroutines, ids ", step, " apart");
    snapshot snap;
    snap.stacks.emplace_back();
    for (std::uint64_t i = 0; i < count; ++i) {
      goroutine_record r;
      r.id = 1'000'000'007 + i * step;
      r.resumes = r.id % 1000;
      snap.goroutines.push_back(r);
    }
    std::shuffle(snap.goroutines.begin(), snap.goroutines.end(), std::mt19937_64(42));
    symbolizer sym;
    const sample s = to_sample(snap, 0, sym);
    REQUIRE(s.goroutines.size() == count);
    for (std::uint64_t i = 0; i < count; ++i) {
      CHECK(s.goroutines[i].id == 1'000'000'007 + i * step);
      CHECK(s.goroutines[i].resumes == s.goroutines[i].id % 1000);
    }
  }
}

TEST_CASE("symbolizer: interns across samples and reports only new entries") {
  runtime rt({.workers = 1});
  gate g;
  symbolizer sym;
  table_marks first_new, second_new, third_new, after_second;
  rt.run([](runtime& rt, gate& g, symbolizer& sym, table_marks& first_new, table_marks& second_new,
            table_marks& third_new, table_marks& after_second) -> task<void> {
    go(outer(g));
    co_await yield();
    goroutine_profile_with_id(rt, sym);
    first_new = sym.take_new();
    goroutine_profile_with_id(rt, sym);  // nothing changed
    second_new = sym.take_new();
    after_second = sym.marks();
    // New: this spawn site; the child's one-frame stack (its frame is known); main's own frame at
    // the co_await below and the stack it tops.
    go(blocked_in(g));
    co_await yield();
    goroutine_profile_with_id(rt, sym);
    third_new = sym.take_new();
    g.release();
  }(rt, g, sym, first_new, second_new, third_new, after_second));

  CHECK(first_new == table_marks{0, 0, 0});
  CHECK(second_new == after_second);  // nothing new in the second sample
  CHECK(third_new == after_second);
  const auto& t = sym.tables();
  CHECK(t.sites.size() == after_second.sites + 1);
  CHECK(t.stacks.size() == after_second.stacks + 2);
  CHECK(t.frames.size() == after_second.frames + 1);
}

TEST_CASE("goroutine_profile_with_id: the owning form copies the tables") {
  runtime rt({.workers = 1});
  profile p;
  rt.run([](runtime& rt, profile& p) -> task<void> {
    p = goroutine_profile_with_id(rt);
    co_return;
  }(rt, p));
  REQUIRE(p.snapshot.goroutines.size() == 1);
  CHECK(p.snapshot.goroutines[0].id == 1);
  CHECK(p.snapshot.goroutines[0].stack < p.tables.stacks.size());
  CHECK(p.snapshot.goroutines[0].site < p.tables.sites.size());
}

}  // namespace
}  // namespace gprofid
