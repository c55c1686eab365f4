// `gprof-id top`'s table: busy share and resumes since the previous sample, sort orders with
// ties by id, filters that narrow without re-sorting, and the filter prompt's language.
#include <doctest/doctest.h>

#include <vector>

#include "gprofid/analysis/top_table.hpp"
#include "gprofid/labels.hpp"

namespace gprofid {
namespace {

constexpr std::int64_t ms = 1'000'000;

symbol_tables tables() {
  symbol_tables t;
  t.sites = {{"main()", "main.cpp", 5}, {"worker(int)", "w.cpp", 3}, {"accept()", "a.cpp", 9}};
  t.frames = {{"f()", "f.cpp", 1}};
  t.stacks = {{0}};
  return t;
}

goroutine_sample g(std::uint64_t id, goroutine_state st, std::uint32_t site,
                   std::int64_t running_ns, std::uint64_t resumes) {
  return {.id = id,
          .parent_id = id > 1 ? 1u : 0u,
          .site = site,
          .state = st,
          .reason = st == goroutine_state::waiting ? wait_reason::chan_receive : wait_reason::none,
          .resumes = resumes,
          .running_ns = running_ns};
}

std::vector<std::uint64_t> ids(const top_table& t) {
  std::vector<std::uint64_t> out;
  for (std::size_t i = 0; i < t.size(); ++i) out.push_back(t[i].g->id);
  return out;
}

struct two_samples {
  symbol_tables t = tables();
  sample a{.seq = 0, .time_ns = 0};
  sample b{.seq = 1, .time_ns = 100 * ms};
  two_samples() {
    a.goroutines = {g(1, goroutine_state::waiting, 0, 0, 1),
                    g(2, goroutine_state::running, 1, 0, 1),
                    g(3, goroutine_state::waiting, 1, 10 * ms, 5)};
    b.goroutines = {g(1, goroutine_state::waiting, 0, 0, 1),
                    g(2, goroutine_state::running, 1, 80 * ms, 2),
                    g(3, goroutine_state::waiting, 1, 30 * ms, 9),
                    g(4, goroutine_state::runnable, 2, 5 * ms, 1)};
    b.goroutines[0].wait_ns = 900 * ms;
    b.goroutines[2].wait_ns = 20 * ms;
    b.goroutines[3].created_ns = 50 * ms;
    b.goroutines[3].labels = with_label(nullptr, "client", "2");
    b.goroutines[2].labels = with_label(nullptr, "client", "1");
  }
};

TEST_CASE("busy is the running time since the previous sample over the time between them") {
  two_samples s;
  top_table t;
  t.build(nullptr, s.a, s.t);
  REQUIRE(t.size() == 3);
  CHECK(t[0].busy == -1);  // nothing to compare the first sample with
  t.build(&s.a, s.b, s.t);
  REQUIRE(ids(t) == std::vector<std::uint64_t>{1, 2, 3, 4});
  CHECK(t[0].busy == doctest::Approx(0.0));
  CHECK(t[1].busy == doctest::Approx(0.8));
  CHECK(t[2].busy == doctest::Approx(0.2));
  CHECK(t[2].resumes_delta == 4);
  // Created 50 ms after the previous sample: 5 ms of its 50 ms of life.
  CHECK(t[3].created);
  CHECK(t[3].busy == doctest::Approx(0.1));
  CHECK(t[3].resumes_delta == 1);
}

TEST_CASE("sorting by a column breaks ties by id, both ways") {
  two_samples s;
  top_table t;
  t.build(&s.a, s.b, s.t);
  t.set_sort({top_column::busy, true});
  CHECK(ids(t) == std::vector<std::uint64_t>{2, 3, 4, 1});
  t.set_sort({top_column::wait, true});
  CHECK(ids(t) == std::vector<std::uint64_t>{1, 3, 2, 4});
  t.set_sort({top_column::state, false});  // runnable, running, waiting
  CHECK(ids(t) == std::vector<std::uint64_t>{4, 2, 1, 3});
  t.set_sort({top_column::site, false});  // accept() < main() < worker(int)
  CHECK(ids(t) == std::vector<std::uint64_t>{4, 1, 2, 3});
  t.set_sort({top_column::labels, false});  // none first, then client=1, client=2
  CHECK(ids(t) == std::vector<std::uint64_t>{1, 2, 3, 4});
  t.set_sort({top_column::id, true});
  CHECK(ids(t) == std::vector<std::uint64_t>{4, 3, 2, 1});
  CHECK(t.position_of(2) == 2);
  CHECK(!t.position_of(99));
  // The order holds for the next sample too.
  t.build(&s.a, s.b, s.t);
  CHECK(ids(t) == std::vector<std::uint64_t>{4, 3, 2, 1});
}

TEST_CASE("a filter narrows the rows and keeps their order") {
  two_samples s;
  top_table t;
  t.build(&s.a, s.b, s.t);
  t.set_sort({top_column::busy, true});
  std::string error;
  auto f = parse_top_filter("state=waiting", error);
  REQUIRE(f);
  t.set_filter(*f);
  CHECK(ids(t) == std::vector<std::uint64_t>{3, 1});
  CHECK(t.total() == 4);
  t.set_filter(*parse_top_filter("worker", error));
  CHECK(ids(t) == std::vector<std::uint64_t>{2, 3});
  t.set_filter(*parse_top_filter("label=client=2", error));
  CHECK(ids(t) == std::vector<std::uint64_t>{4});
  t.set_filter(*parse_top_filter("state=chan_receive site=w.cpp", error));
  CHECK(ids(t) == std::vector<std::uint64_t>{3});
  CHECK(!t.position_of(1));
  t.set_filter(*parse_top_filter("", error));
  CHECK(t.size() == 4);
}

TEST_CASE("the filter prompt says what it cannot read") {
  std::string error;
  CHECK(!parse_top_filter("state=sleeping", error));
  CHECK(error == "unknown state \"sleeping\"");
  CHECK(!parse_top_filter("label=client", error));
  CHECK(error == "label wants KEY=VALUE, got \"client\"");
  auto f = parse_top_filter("  state=running   label=a=b=c ", error);
  REQUIRE(f);
  CHECK(f->match.state == goroutine_state::running);
  REQUIRE(f->match.labels.size() == 1);
  CHECK(f->match.labels[0].second == "b=c");
}

}  // namespace
}  // namespace gprofid
