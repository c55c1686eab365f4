#include "gprofid/analysis/export_trace.hpp"

#include <doctest/doctest.h>

#include <map>
#include <set>
#include <utility>

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

bool is_number(const json& j) {
  return j.is_number();
}

// Checks the rules of the trace event format that viewers rely on, and returns the events.
json::array_t checked_events(const json& trace) {
  REQUIRE(trace.is_object());
  CHECK(trace.at("displayTimeUnit") == "ns");
  REQUIRE(trace.at("traceEvents").is_array());
  const json::array_t& events = trace.at("traceEvents").get_ref<const json::array_t&>();

  std::set<std::int64_t> named_processes;
  std::set<std::pair<std::int64_t, std::int64_t>> named_threads, used_threads;
  std::map<std::pair<std::int64_t, std::int64_t>, std::vector<std::pair<double, double>>> slices;
  std::map<std::int64_t, int> flow_starts, flow_ends;
  for (const json& e : events) {
    INFO(e.dump());
    REQUIRE(e.contains("ph"));
    REQUIRE(e.at("name").is_string());
    REQUIRE(is_number(e.at("pid")));
    REQUIRE(is_number(e.at("tid")));
    const std::string ph = e.at("ph");
    const auto thread =
        std::make_pair(e.at("pid").get<std::int64_t>(), e.at("tid").get<std::int64_t>());
    if (ph == "M") {
      REQUIRE(e.at("args").is_object());
      const std::string name = e.at("name");
      if (name == "process_name") named_processes.insert(thread.first);
      if (name == "thread_name") named_threads.insert(thread);
      if (name == "process_name" || name == "thread_name")
        CHECK(e.at("args").at("name").is_string());
      continue;
    }
    REQUIRE(is_number(e.at("ts")));
    const double ts = e.at("ts");
    CHECK(ts >= 0);
    used_threads.insert(thread);
    if (ph == "X") {
      REQUIRE(is_number(e.at("dur")));
      CHECK(e.at("dur").get<double>() >= 0);
      slices[thread].emplace_back(ts, ts + e.at("dur").get<double>());
    } else if (ph == "i") {
      CHECK((e.at("s") == "t" || e.at("s") == "p" || e.at("s") == "g"));
    } else if (ph == "C") {
      REQUIRE(e.at("args").is_object());
      for (const auto& [k, v] : e.at("args").items()) CHECK(v.is_number());
    } else if (ph == "s" || ph == "f") {
      REQUIRE(e.at("cat").is_string());
      REQUIRE(is_number(e.at("id")));
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
  for (const auto& thread : used_threads) {
    CHECK(named_processes.count(thread.first) == 1);
    if (thread.first != 0) CHECK(named_threads.count(thread) == 1);  // pid 0: counters
  }
  // Complete events of one thread must nest; ours never overlap.
  for (auto& [thread, spans] : slices) {
    std::sort(spans.begin(), spans.end());
    for (std::size_t i = 1; i < spans.size(); ++i) CHECK(spans[i - 1].second <= spans[i].first);
  }
  return events;
}

std::vector<json> of(const json::array_t& events, const std::string& ph, std::int64_t tid) {
  std::vector<json> out;
  for (const json& e : events) {
    if (e.at("ph") == ph && e.at("tid") == tid) out.push_back(e);
  }
  return out;
}

TEST_CASE("trace export follows the trace event format") {
  fixture f;
  json trace = chrome_trace(f.tables, f.samples);
  // What a viewer reads is the serialized text.
  checked_events(json::parse(trace.dump()));
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
  CHECK(name_of("process_name", 1, 0) == "main()");
  CHECK(name_of("process_name", 2, 0) == "main_task()");
  CHECK(name_of("thread_name", 1, 1) == "g1 main_task()");
  CHECK(name_of("thread_name", 2, 2) == "g2 worker(int)");
  CHECK(name_of("thread_name", 2, 3) == "g3 worker(int)");
}

TEST_CASE("trace slices follow each goroutine's states between samples") {
  fixture f;
  auto events = checked_events(chrome_trace(f.tables, f.samples));

  auto main_slices = of(events, "X", 1);
  REQUIRE(main_slices.size() == 1);
  CHECK(main_slices[0].at("name") == "running");
  CHECK(main_slices[0].at("ts") == 0.0);
  CHECK(main_slices[0].at("dur") == 4000.0);  // one interval past the last sample

  auto g3 = of(events, "X", 3);
  REQUIRE(g3.size() == 2);
  CHECK(g3[0].at("name") == "runnable");
  CHECK(g3[0].at("ts") == 500.0);    // created
  CHECK(g3[0].at("dur") == 1100.0);  // until the sleep began at 2 ms - 0.4 ms
  CHECK(g3[1].at("name") == "sleep");
  CHECK(g3[1].at("ts") == 1600.0);
  CHECK(g3[1].at("dur") == 2400.0);
  CHECK(g3[1].at("args").at("wait_reason") == "sleep");
  CHECK(g3[1].at("args").at("stack") == json::array({"worker(int) worker.cpp:20"}));

  auto g2 = of(events, "X", 2);
  REQUIRE(g2.size() == 1);
  CHECK(g2[0].at("name") == "chan receive");
  CHECK(g2[0].at("ts") == 1700.0);
  CHECK(g2[0].at("dur") == 1300.0);
  CHECK(g2[0].at("args").at("labels") == json{{"request", "abc"}});
  CHECK(g2[0].at("args").at("stack") ==
        json::array({"consume(int) worker.cpp:31", "worker(int) worker.cpp:20"}));
  auto exits = of(events, "i", 2);
  REQUIRE(exits.size() == 1);
  CHECK(exits[0].at("ts") == 3000.0);
  CHECK(of(events, "i", 3).empty());
}

TEST_CASE("trace flows go from the parent's slice at creation to the child's first slice") {
  fixture f;
  auto events = checked_events(chrome_trace(f.tables, f.samples));
  auto starts = of(events, "s", 1);
  REQUIRE(starts.size() == 2);
  std::map<std::int64_t, double> start_ts;
  for (const json& s : starts) start_ts[s.at("id")] = s.at("ts");
  CHECK(start_ts.at(2) == 1500.0);
  CHECK(start_ts.at(3) == 500.0);
  auto end2 = of(events, "f", 2);
  REQUIRE(end2.size() == 1);
  CHECK(end2[0].at("id") == 2);
  CHECK(end2[0].at("bp") == "e");
  CHECK(end2[0].at("ts") == 1700.0);
  CHECK(of(events, "s", 0).empty());  // nothing flows into main
}

TEST_CASE("trace counters give goroutines per state at each sample") {
  fixture f;
  auto events = checked_events(chrome_trace(f.tables, f.samples));
  auto counters = of(events, "C", 0);
  REQUIRE(counters.size() == 3);
  CHECK(counters[1].at("ts") == 2000.0);
  CHECK(counters[1].at("args") == json{{"running", 1}, {"runnable", 0}, {"waiting", 2}});
  CHECK(counters[0].at("args") == json{{"running", 1}, {"runnable", 1}, {"waiting", 0}});
}

TEST_CASE("a single sample still gives slices of positive length") {
  fixture f;
  f.samples.resize(1);
  auto events = checked_events(chrome_trace(f.tables, f.samples));
  auto main_slices = of(events, "X", 1);
  REQUIRE(main_slices.size() == 1);
  CHECK(main_slices[0].at("dur").get<double>() > 0);
}

}  // namespace
}  // namespace gprofid
