#include "gprofid/analysis/export_trace.hpp"

#include <doctest/doctest.h>

#include <functional>

#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "gprofid/testing/synthetic_churn.hpp"

namespace gprofid {
namespace {

using nlohmann::json;

// main (1) runs throughout; 3 is spawned at 0.5 ms, runnable, then sleeps from 1.6 ms on; 2 is
// spawned at 1.5 ms, blocks on a channel at 1.7 ms and is gone by the third sample.
struct fixture {
  symbol_tables tables;
  std::vector<sample> samples;

  fixture() {
    tables.sites = {{"main()", "main.cpp", 5, 0}, {"main_task()", "main.cpp", 12, 0}};
    tables.frames = {{"main_task()", "main.cpp", 14, 0x1000},
                     {"worker(int)", "worker.cpp", 20, 0x2000},
                     {"consume(int)", "worker.cpp", 31, 0x2100}};
    tables.stacks = {{0}, {2, 1}, {1}};
    const goroutine_sample main_g{.id = 1, .stack = 0, .state = goroutine_state::running};
    goroutine_sample g2{.id = 2,
                        .parent_id = 1,
                        .site = 1,
                        .stack = 1,
                        .state = goroutine_state::waiting,
                        .reason = wait_reason::chan_receive,
                        .created_ns = 1'500'000,
                        .wait_ns = 300'000,
                        .labels = with_label(nullptr, "request", "abc")};
    goroutine_sample g3{.id = 3,
                        .parent_id = 1,
                        .site = 1,
                        .stack = 2,
                        .state = goroutine_state::runnable,
                        .created_ns = 500'000};
    samples.push_back({.seq = 0, .time_ns = 1'000'000, .goroutines = {main_g, g3}});
    g3.state = goroutine_state::waiting;
    g3.reason = wait_reason::sleep;
    g3.wait_ns = 400'000;
    samples.push_back({.seq = 1, .time_ns = 2'000'000, .goroutines = {main_g, g2, g3}});
    g3.wait_ns = 1'400'000;
    samples.push_back({.seq = 2, .time_ns = 3'000'000, .goroutines = {main_g, g3}});
  }
};

using thread_key = std::pair<std::int64_t, std::int64_t>;

// Checks the rules of the trace event format that the consumers rely on (tests/consumers runs
// the consumers themselves), and returns the events.
json::array_t checked_events(const std::string& text) {
  const json trace = json::parse(text);
  REQUIRE(trace.is_object());
  CHECK(trace.at("displayTimeUnit") == "ns");
  REQUIRE(trace.at("traceEvents").is_array());
  const json::array_t& events = trace.at("traceEvents").get_ref<const json::array_t&>();

  std::map<std::int64_t, std::string> process_names;
  std::set<thread_key> named_threads, used_threads;
  std::map<thread_key, std::vector<std::pair<double, double>>> slices;
  std::map<std::int64_t, int> flow_starts, flow_ends;
  for (const json& e : events) {
    INFO(e.dump());
    REQUIRE(e.contains("ph"));
    REQUIRE(e.at("name").is_string());
    REQUIRE(e.at("pid").is_number());
    REQUIRE(e.at("tid").is_number());
    const std::string ph = e.at("ph");
    const thread_key thread{e.at("pid").get<std::int64_t>(), e.at("tid").get<std::int64_t>()};
    if (ph == "M") {
      REQUIRE(e.at("args").is_object());
      const std::string name = e.at("name");
      if (name == "process_name") process_names[thread.first] = e.at("args").at("name");
      if (name == "thread_name") named_threads.insert(thread);
      continue;
    }
    REQUIRE(e.at("ts").is_number());
    const double ts = e.at("ts");
    CHECK(ts >= 0);
    used_threads.insert(thread);
    if (ph == "X") {
      CHECK(e.at("cat").is_string());
      REQUIRE(e.at("dur").is_number());
      CHECK(e.at("dur").get<double>() > 0);
      slices[thread].emplace_back(ts, e.at("dur").get<double>());
    } else if (ph == "I") {
      CHECK(e.at("s") == "t");
    } else if (ph == "C") {
      for (const auto& [k, v] : e.at("args").items()) CHECK(v.is_number());
    } else if (ph == "s" || ph == "f") {
      REQUIRE(e.at("cat").is_string());
      REQUIRE(e.at("id").is_number());
      ++(ph == "s" ? flow_starts : flow_ends)[e.at("id").get<std::int64_t>()];
    } else {
      FAIL("unexpected phase " << ph);
    }
  }
  CHECK(flow_starts.size() == flow_ends.size());
  for (const auto& [id, n] : flow_starts) {
    CHECK(n == 1);
    CHECK(flow_ends[id] == 1);
  }
  std::set<std::string> distinct;
  for (const auto& [pid, name] : process_names) distinct.insert(name);
  CHECK(distinct.size() == process_names.size());
  for (const auto& thread : used_threads) {
    CHECK(process_names.count(thread.first) == 1);
    CHECK(named_threads.count(thread) == 1);
  }
  // Slices of one thread never overlap, as DevTools computes their ends (ts + dur in double)
  // and as speedscope does (after subtracting the thread's first timestamp).
  for (auto& [thread, spans] : slices) {
    std::sort(spans.begin(), spans.end());
    const double origin = spans.front().first;
    for (std::size_t i = 1; i < spans.size(); ++i) {
      CHECK(spans[i - 1].first + spans[i - 1].second <= spans[i].first);
      CHECK((spans[i - 1].first - origin) + spans[i - 1].second <= spans[i].first - origin);
    }
  }
  return events;
}

std::vector<json> of(const json::array_t& events, const std::string& ph, std::int64_t tid,
                     std::int64_t pid = -1) {
  std::vector<json> out;
  for (const json& e : events) {
    if (e.at("ph") == ph && e.at("tid") == tid && (pid < 0 || e.at("pid") == pid)) out.push_back(e);
  }
  return out;
}

TEST_CASE("micros_text writes nanoseconds as exact decimal microseconds") {
  CHECK(micros_text(0) == "0");
  CHECK(micros_text(2000) == "2");
  CHECK(micros_text(1500) == "1.5");
  CHECK(micros_text(1234567) == "1234.567");
  CHECK(micros_text(7759600) == "7759.6");
  CHECK(micros_text(1) == "0.001");
  CHECK(micros_text(9'007'199'254'740'991) == "9007199254740.991");
  CHECK(micros_text(-5) == "0");
}

TEST_CASE("fitted_duration never lets a slice's computed end pass the next slice's start") {
  // The slice of issue 15: 7759.6 + 221.52 is 7981.120000000001 in double.
  CHECK(7759.6 + 221.52 > 7981.12);
  const std::int64_t d = fitted_duration(7'759'600, 7'981'120, 0);
  CHECK(d < 221'520);
  CHECK(d >= 221'518);
  CHECK(7759.6 + static_cast<double>(d) / 1000 <= 7981.12);
  CHECK(fitted_duration(0, 1'000'000, 0) == 1'000'000);  // exact sums stay exact
  CHECK(fitted_duration(5, 5, 0) == 0);
  // Over many boundaries of one track, both ways the consumers compute an end hold.
  const std::int64_t origin = 123'456'789;
  for (std::int64_t start = origin; start < origin + 50'000'000; start += 777'777) {
    const std::int64_t end = start + 777'777;
    const std::int64_t fit = fitted_duration(start, end, origin);
    const double ts = static_cast<double>(start) / 1000, next = static_cast<double>(end) / 1000;
    const double dur = static_cast<double>(fit) / 1000, o = static_cast<double>(origin) / 1000;
    CHECK(ts + dur <= next);
    CHECK((ts - o) + dur <= next - o);
    CHECK(end - start - fit <= 2);
  }
}

TEST_CASE("fitted_duration saturates on hostile spans and stays short near INT64_MAX") {
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  constexpr auto min = std::numeric_limits<std::int64_t>::min();
  CHECK(fitted_duration(min, max, 0) == max);  // a span of 1.8e19 ns, not a wrapped -1
  CHECK(fitted_duration(max, min, 0) == 0);
  // Near the limit one ulp of the microseconds is 2 us: the fit is still found, and fits.
  const std::int64_t start = max - 10'000'000;
  const std::int64_t d = fitted_duration(start, max, start);
  CHECK(d > 0);
  CHECK(d <= 10'000'000);
  CHECK(static_cast<double>(start) / 1000 + static_cast<double>(d) / 1000 <=
        static_cast<double>(max) / 1000);
}

TEST_CASE("hostile times give a valid trace that never runs backwards") {
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  constexpr auto min = std::numeric_limits<std::int64_t>::min();
  fixture f;
  goroutine_sample main_g{.id = 1, .stack = 0, .state = goroutine_state::running};
  goroutine_sample w{.id = 2,
                     .parent_id = 1,
                     .site = 1,
                     .stack = 1,
                     .state = goroutine_state::waiting,
                     .reason = wait_reason::chan_receive,
                     .created_ns = max,
                     .wait_ns = min};
  goroutine_sample child = w;
  child.id = 3;
  child.wait_ns = max;
  child.created_ns = min;
  std::vector<sample> samples;
  samples.push_back({.seq = 0, .time_ns = min, .goroutines = {main_g, w}});
  samples.push_back({.seq = 1, .time_ns = max, .goroutines = {main_g, w, child}});
  w.wait_ns = max;
  samples.push_back({.seq = 2, .time_ns = 0, .goroutines = {main_g, w, child}});  // back in time
  samples.push_back({.seq = 3, .time_ns = max - 1, .goroutines = {main_g}});
  auto events = checked_events(chrome_trace(f.tables, samples));
  double last_counter = -1;
  for (const json& e : events) {
    if (e.at("ph") != "C") continue;
    CHECK(e.at("ts").get<double>() >= last_counter);  // counters in time order
    last_counter = e.at("ts");
  }
  CHECK(last_counter == static_cast<double>(max) / 1000);
  for (const json& e : of(events, "X", 2)) {
    CHECK(e.at("ts").get<double>() + e.at("dur").get<double>() <= static_cast<double>(max) / 1000);
  }
}

TEST_CASE("trace export draws one track per goroutine, grouped by spawn site") {
  fixture f;
  auto events = checked_events(chrome_trace(f.tables, f.samples));
  auto name_of = [&](const std::string& what, std::int64_t pid, std::int64_t tid) {
    for (const json& e : events) {
      if (e.at("ph") == "M" && e.at("name") == what && e.at("pid") == pid && e.at("tid") == tid) {
        return e.at("args").at("name").get<std::string>();
      }
    }
    return std::string("(none)");
  };
  CHECK(name_of("process_name", 0, 0) == "gprof-id");
  CHECK(name_of("process_name", 1, 0) == "main()");
  CHECK(name_of("process_name", 2, 0) == "main_task()");
  CHECK(name_of("thread_name", 1, 1) == "g1 main_task()");
  CHECK(name_of("thread_name", 2, 2) == "g2 worker(int)");
  CHECK(name_of("thread_name", 2, 3) == "g3 worker(int)");
}

TEST_CASE("two spawn sites in one function are told apart by their lines") {
  fixture f;
  f.tables.sites[1].function = "main()";
  auto events = checked_events(chrome_trace(f.tables, f.samples));
  std::map<std::int64_t, std::string> names;
  for (const json& e : events) {
    if (e.at("ph") == "M" && e.at("name") == "process_name")
      names[e.at("pid")] = e.at("args").at("name");
  }
  CHECK(names.at(1) == "main() (main.cpp:5)");
  CHECK(names.at(2) == "main() (main.cpp:12)");
}

TEST_CASE("trace slices are named by state or wait reason and end where the next begins") {
  fixture f;
  auto events = checked_events(chrome_trace(f.tables, f.samples));

  // main is split where it spawned 3 (0.5 ms) and 2 (1.5 ms): the arrows start there.
  auto main_slices = of(events, "X", 1, 1);
  REQUIRE(main_slices.size() == 3);
  CHECK(main_slices[0].at("name") == "running");
  CHECK(main_slices[0].at("cat") == "goroutine");
  CHECK(main_slices[0].at("ts") == 0.0);
  CHECK(main_slices[0].at("dur") == 500.0);
  CHECK(main_slices[1].at("ts") == 500.0);
  CHECK(main_slices[1].at("dur") == 1000.0);
  CHECK(main_slices[2].at("ts") == 1500.0);
  CHECK(main_slices[2].at("dur") == 2500.0);  // one interval past the last sample

  auto g3 = of(events, "X", 3);
  REQUIRE(g3.size() == 2);
  CHECK(g3[0].at("name") == "runnable");
  CHECK(g3[0].at("ts") == 500.0);    // created
  CHECK(g3[0].at("dur") == 1100.0);  // until the sleep began at 2 ms - 0.4 ms
  CHECK(g3[1].at("name") == "sleep");
  CHECK(g3[1].at("ts") == 1600.0);
  CHECK(g3[1].at("dur") == 2400.0);
  CHECK(g3[1].at("args").at("state") == "waiting");
  CHECK(g3[1].at("args").at("wait_reason") == "sleep");
  CHECK(g3[1].at("args").at("stack") == json::array({"worker(int) worker.cpp:20"}));

  // 2 was first seen waiting: from its creation until the wait it ran or waited to run.
  auto g2 = of(events, "X", 2);
  REQUIRE(g2.size() == 2);
  CHECK(g2[0].at("name") == "running|runnable");
  CHECK(g2[0].at("ts") == 1500.0);
  CHECK(g2[0].at("dur") == 200.0);
  CHECK(g2[1].at("name") == "chan receive");
  CHECK(g2[1].at("ts") == 1700.0);
  CHECK(g2[1].at("dur") == 1300.0);
  CHECK(g2[1].at("args").at("labels") == json{{"request", "abc"}});
  CHECK(g2[1].at("args").at("stack") ==
        json::array({"consume(int) worker.cpp:31", "worker(int) worker.cpp:20"}));
  auto exits = of(events, "I", 2);
  REQUIRE(exits.size() == 1);
  CHECK(exits[0].at("name") == "exit");
  CHECK(exits[0].at("ts") == 3000.0);
  CHECK(of(events, "I", 3).empty());
}

TEST_CASE("spawn arrows bind as DevTools binds them: same category, pid, tid and ts") {
  fixture f;
  auto events = checked_events(chrome_trace(f.tables, f.samples));
  auto starts = of(events, "s", 1, 1);
  REQUIRE(starts.size() == 2);
  std::map<std::int64_t, double> start_ts;
  for (const json& s : starts) start_ts[s.at("id")] = s.at("ts");
  CHECK(start_ts.at(2) == 1500.0);  // the child's creation
  CHECK(start_ts.at(3) == 500.0);
  auto end2 = of(events, "f", 2);
  REQUIRE(end2.size() == 1);
  CHECK(end2[0].at("bp") == "e");
  CHECK(end2[0].at("ts") == 1700.0);  // the child's first slice after its creation
  auto end3 = of(events, "f", 3);
  REQUIRE(end3.size() == 1);
  CHECK(end3[0].at("ts") == 1600.0);
  // Each end has a slice of its category starting at exactly its timestamp on its thread.
  for (const json& flow : {starts[0], starts[1], end2[0], end3[0]}) {
    INFO(flow.dump());
    int bound = 0;
    for (const json& x : of(events, "X", flow.at("tid"), flow.at("pid"))) {
      bound += x.at("ts") == flow.at("ts") && x.at("cat") == flow.at("cat");
    }
    CHECK(bound == 1);
  }
  // Written in time order: a start before its end.
  std::size_t s2 = 0, f2 = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].at("ph") == "s" && events[i].at("id") == 2) s2 = i;
    if (events[i].at("ph") == "f" && events[i].at("id") == 2) f2 = i;
  }
  CHECK(s2 < f2);
}

TEST_CASE("a child that never leaves its first slice still gets its arrow") {
  fixture f;
  // 3 stays runnable, in the slice it was created in, to the end.
  for (sample& s : f.samples) {
    for (goroutine_sample& g : s.goroutines) {
      if (g.id == 3) g = {.id = 3, .parent_id = 1, .site = 1, .stack = 2, .created_ns = 500'000};
    }
  }
  std::string text;
  trace_writer w([&](std::string_view piece) { text += piece; });
  for (const sample& s : f.samples) w.add(f.tables, s);
  w.finish(f.tables);
  CHECK(w.flows_written() == 2);
  CHECK(w.flows_skipped() == 0);
  auto events = checked_events(text);
  auto g3 = of(events, "X", 3);
  REQUIRE(g3.size() == 2);  // split where the first sample saw it
  CHECK(g3[1].at("ts") == 1000.0);
  CHECK(of(events, "f", 3).at(0).at("ts") == 1000.0);
}

TEST_CASE("trace counts goroutines per state as a counter and as slices DevTools draws") {
  fixture f;
  auto events = checked_events(chrome_trace(f.tables, f.samples));
  auto counters = of(events, "C", 0, 0);
  REQUIRE(counters.size() == 3);
  CHECK(counters[1].at("ts") == 2000.0);
  CHECK(counters[1].at("args") == json{{"running", 1}, {"runnable", 0}, {"waiting", 2}});
  CHECK(counters[0].at("args") == json{{"running", 1}, {"runnable", 1}, {"waiting", 0}});
  auto count_slices = of(events, "X", 0, 0);
  REQUIRE(count_slices.size() == 3);
  CHECK(count_slices[1].at("name") == "3 goroutines");
  CHECK(count_slices[1].at("ts") == 2000.0);
  CHECK(count_slices[1].at("dur") == 1000.0);
  CHECK(count_slices[2].at("dur") == 1000.0);  // the last one lasts an interval too
}

TEST_CASE("a single sample still gives slices of positive length") {
  fixture f;
  f.samples.resize(1);
  auto events = checked_events(chrome_trace(f.tables, f.samples));
  auto main_slices = of(events, "X", 1, 1);
  REQUIRE(main_slices.size() == 2);
  CHECK(main_slices[1].at("dur").get<double>() > 0);
}

TEST_CASE("the trace is written while samples are added, not held until the end") {
  symbol_tables tables;
  tables.sites = {{"main()", "main.cpp", 5, 0}};
  tables.frames = {{"main()", "main.cpp", 6, 0}};
  tables.stacks = {{0}};
  std::size_t written = 0;
  trace_writer w([&](std::string_view piece) { written += piece.size(); });
  for (int i = 0; i < 1000; ++i) {
    sample s;
    s.seq = static_cast<std::uint64_t>(i);
    s.time_ns = i * 1'000'000;
    // Every goroutine changes state at every sample: one closed slice each per sample.
    const auto state = i % 2 ? goroutine_state::running : goroutine_state::runnable;
    for (std::uint64_t id = 1; id <= 10; ++id) s.goroutines.push_back({.id = id, .state = state});
    w.add(tables, s);
  }
  CHECK(written > 500'000);  // most of the 10'000 slices are out before finish()
  w.finish(tables);
}

TEST_CASE("a churn's trace holds the goroutines alive, not every goroutine that exited") {
  // 200-202 goroutines throughout, of which ~2 exit and ~2 are new at each of 1500 samples:
  // over 3000 goroutines in all, nearly all of them exited by the end.
  const symbol_tables tables = testing::churn_tables();
  std::vector<sample> samples = testing::churn_samples(200, 1);
  std::uint64_t next_id = 201;
  while (samples.size() < 1500) {
    sample s = testing::churn_step(samples.back(), next_id, 10'000'000);
    while (s.goroutines.size() < 200) {
      s.goroutines.push_back(testing::churn_goroutine(next_id++, s.time_ns));
    }
    samples.push_back(std::move(s));
  }
  REQUIRE(next_id > 3000);
  std::size_t most_alive = 0;
  for (const sample& s : samples) most_alive = std::max(most_alive, s.goroutines.size());
  for (const bool by_changes : {false, true}) {
    CAPTURE(by_changes);
    std::size_t written = 0;
    trace_writer w([&](std::string_view piece) { written += piece.size(); });
    sample_changes c;
    std::size_t most = 0;
    for (std::size_t i = 0; i < samples.size(); ++i) {
      const sample& s = samples[i];
      if (!by_changes) {
        w.add(tables, s);
      } else {
        const std::vector<goroutine_sample> none;
        changes_between(i == 0 ? none : samples[i - 1].goroutines,
                        i == 0 ? 0 : samples[i - 1].time_ns, s.goroutines, s.time_ns, c);
        c.seq = s.seq;
        c.time_ns = s.time_ns;
        c.first = i == 0;
        c.alive = s.goroutines.size();
        const std::function<void(sample&)> whole = [&](sample& out) { out = s; };
        w.add(tables, c, whole);
      }
      // The tracks of the goroutines alive and one run of the ids met, whatever has exited.
      CHECK(w.tracks_held() == s.goroutines.size());
      CHECK(w.id_runs_held() == 1);
      most = std::max(most, w.tracks_held() + w.id_runs_held());
    }
    CHECK(most == most_alive + 1);
    w.finish(tables);
    CHECK(written > 0);
  }
}

TEST_CASE("an id met after its goroutine exited is not a new track; one met late is") {
  symbol_tables tables;
  tables.sites = {{"main()", "main.cpp", 5, 0}};
  tables.frames = {{"main()", "main.cpp", 6, 0}};
  tables.stacks = {{0}};
  const goroutine_sample g1{.id = 1, .state = goroutine_state::running};
  const goroutine_sample g3{.id = 3, .state = goroutine_state::runnable};
  const goroutine_sample g5{.id = 5, .state = goroutine_state::runnable};
  // 5 exits at the second sample and comes back at the third, where 3 is met for the first time.
  const std::vector<sample> samples = {{.seq = 0, .time_ns = 0, .goroutines = {g1, g5}},
                                       {.seq = 1, .time_ns = 1'000'000, .goroutines = {g1}},
                                       {.seq = 2, .time_ns = 2'000'000, .goroutines = {g1, g3, g5}},
                                       {.seq = 3, .time_ns = 3'000'000, .goroutines = {g1, g3}}};
  auto events = checked_events(chrome_trace(tables, samples));
  CHECK(of(events, "M", 3).size() == 2);  // thread_name and thread_sort_index
  CHECK(of(events, "M", 5).size() == 2);  // named once
  CHECK(of(events, "I", 5).size() == 1);  // exits once
  CHECK(of(events, "I", 3).empty());      // alive at the end
}

}  // namespace
}  // namespace gprofid
