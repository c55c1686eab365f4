#include "gprofid/recorder/periodic_sampler.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <vector>

#include "gprofid/analysis/recording_reader.hpp"
#include "gprofid/channel.hpp"
#include "gprofid/recorder/profile.hpp"
#include "gprofid/recording/wait_graph.hpp"
#include "gprofid/sleep.hpp"
#include "tests/sampler/test_support.hpp"

namespace gprofid {
namespace {

namespace fs = std::filesystem;

using testing::gate;

task<void> wait_at(gate& g) {
  co_await g.wait();
}

fs::path temp_file(const char* tag) {
  return fs::temp_directory_path() /
         (std::string("gprofid-") + tag + "-" + std::to_string(::getpid()) + ".jsonl");
}

// Runs `body` inside main of a one-worker runtime in which three goroutines wait at a gate; the
// body may block its worker (the others are parked, so nothing needs to run).
template <class F>
void with_three_waiting(F body) {
  runtime rt({.workers = 1});
  gate g;
  rt.run([](runtime& rt, gate& g, F& body) -> task<void> {
    for (int i = 0; i < 3; ++i) go(wait_at(g));
    co_await yield();
    body(rt);
    g.release();
  }(rt, g, body));
}

TEST_CASE("start_recording: N samples, then the end line") {
  const auto path = temp_file("n-samples");
  std::uint64_t taken = 0;
  std::size_t last = 0;
  with_three_waiting([&](runtime& rt) {
    auto session = start_recording(
        rt, path.string(),
        {.sampling = {.interval_ns = 1'000'000, .max_samples = 3}, .workload = "test"});
    session->wait();
    taken = session->sampler().samples_taken();
    last = session->sampler().last_goroutines();
    session->stop();
  });
  CHECK(taken == 3);
  CHECK(last == 4);
  auto rec = read_recording(path.string());
  CHECK(rec.header.workload == "test");
  CHECK(rec.header.interval_ns == 1'000'000);
  CHECK(rec.header.workers == 1);
  CHECK(rec.header.pid == ::getpid());
  REQUIRE(rec.samples.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(rec.samples[i].seq == i);
    CHECK(rec.samples[i].goroutines.size() == 4);
    if (i) CHECK(rec.samples[i].time_ns > rec.samples[i - 1].time_ns);
  }
  REQUIRE(rec.end);
  CHECK(rec.end->reason == end_reason::samples);
  CHECK(rec.end->samples == 3);
  CHECK(rec.warnings.empty());
  fs::remove(path);
}

TEST_CASE("periodic_sampler: incremental samples read back as full ones, in v1 and v2") {
  for (const bool incremental : {true, false}) {
    for (const auto format : {recording_encoding::v2, recording_encoding::jsonl}) {
      INFO("incremental ", incremental, ", ", to_string(format));
      const auto path = temp_file("incremental");
      with_three_waiting([&](runtime& rt) {
        recording_options o{
            .sampling = {.interval_ns = 1'000'000, .max_samples = 6, .incremental = incremental},
            .workload = "test",
            .format = format};
        auto session = start_recording(rt, path.string(), o);
        session->wait();
        session->stop();
      });
      auto rec = read_recording(path.string());
      REQUIRE(rec.samples.size() == 6);
      for (std::size_t i = 0; i < rec.samples.size(); ++i) {
        const auto& s = rec.samples[i];
        INFO("sample ", i);
        CHECK(s.seq == i);
        REQUIRE(s.goroutines.size() == 4);
        CHECK(s.goroutines[0].state == goroutine_state::running);  // main, blocking its worker
        for (std::size_t k = 1; k < 4; ++k) {
          const auto& g = s.goroutines[k];
          CHECK(g.state == goroutine_state::waiting);
          // Unchanged goroutines are not written, yet their waits grow with the time.
          if (i > 0) {
            const auto& before = rec.samples[i - 1];
            CHECK(g.wait_ns == before.goroutines[k].wait_ns + (s.time_ns - before.time_ns));
            CHECK(g.resumes == before.goroutines[k].resumes);
          }
        }
      }
      fs::remove(path);
    }
  }
}

task<void> leak_on_own_channel() {
  auto c = make_chan<int>();
  co_await c.recv();
}

TEST_CASE("periodic_sampler: a leak that forms between full snapshots is in the next sample") {
  // No refresh in the test's time (graph_interval_ns an hour): the graph comes with the deltas.
  for (const auto format : {recording_encoding::v2, recording_encoding::jsonl}) {
    INFO(to_string(format));
    const auto path = temp_file("graph-deltas");
    std::uint64_t leaker = 0;
    runtime rt({.workers = 1});
    rt.run([](runtime& rt, const fs::path& path, recording_encoding format,
              std::uint64_t& leaker) -> task<void> {
      recording_options o{
          .sampling = {.interval_ns = 1'000'000, .graph_interval_ns = 3'600'000'000'000},
          .format = format};
      auto session = start_recording(rt, path.string(), o);
      auto taken = [&] { return session->sampler().samples_taken(); };
      using namespace std::chrono_literals;
      while (taken() < 2) co_await sleep_for(1ms);  // the first, full, sample is written
      leaker = go(leak_on_own_channel());
      co_await yield();  // one worker: it runs and parks
      // The sample after the next one began after it parked.
      const std::uint64_t parked_by = taken() + 2;
      while (taken() < parked_by) co_await sleep_for(1ms);
      session->stop();
    }(rt, path, format, leaker));
    auto rec = read_recording(path.string());
    REQUIRE(rec.samples.size() >= 4);
    const sample& last = rec.samples.back();
    const goroutine_sample* g = find_goroutine(last, leaker);
    REQUIRE(g);
    CHECK(g->blocked_on != 0);
    CHECK(diagnose(last).leak_of(leaker) != nullptr);
    // Main sleeps between its looks: its timer, unless the sample caught it running or waking.
    const goroutine_sample* main_g = find_goroutine(last, 1);
    REQUIRE(main_g);
    if (main_g->state == goroutine_state::waiting && main_g->blocked_on != 0) {
      const wait_object* t = find_object(last, main_g->blocked_on);
      REQUIRE(t);
      CHECK(t->kind == wait_object_kind::timer);
    }
    fs::remove(path);
  }
}

task<void> parks_inside(chan<int> c) {
  co_await c.recv();
}

// Woken with v, it parks next at its loop's line (v % 3 == 2), at another line of the same
// frame (1), or in a frame it calls (0): frames that move, and a line that moves without them.
task<void> moves_around(chan<int> c) {
  while (auto v = co_await c.recv()) {
    if (*v % 3 == 0) {
      co_await parks_inside(c);
    } else if (*v % 3 == 1) {
      auto w = co_await c.recv();  // into a variable: see docs/runtime.md on g++ 12
      if (!w) co_return;
    }
  }
}

// One worker, samples by hand between steps that wake, spawn and end goroutines: the recording
// of a sampler with keep_frames set or not.
recording record_moving(bool keep_frames, recording_encoding format) {
  const auto path = temp_file("kept-frames");
  runtime rt({.workers = 1});
  rt.run([](runtime& rt, const fs::path& path, recording_encoding format,
            bool keep_frames) -> task<void> {
    std::vector<chan<int>> links;
    auto spawn = [&] {
      links.push_back(make_chan<int>(1));
      go(moves_around(links.back()));
    };
    for (int i = 0; i < 30; ++i) spawn();
    co_await yield();
    recording_writer w = recording_writer::create(path.string(), format);
    w.write_header(header_for(rt, 0));
    periodic_sampler s(rt, w, {.graph_interval_ns = 3'600'000'000'000, .keep_frames = keep_frames});
    s.sample_now();  // full
    for (int step = 0; step < 12; ++step) {
      for (std::size_t i = 0; i < links.size(); ++i) {
        if ((i + step) % 2 == 0 && !links[i].closed())
          co_await links[i].send(static_cast<int>(i + step));
      }
      if (step % 4 == 3) links[step].close();  // it ends
      spawn();
      co_await yield();  // one worker: every one woken runs and parks again
      s.sample_now();
    }
    s.stop();
    w.write_end({13, end_reason::samples, std::nullopt, std::nullopt});
    for (auto& c : links) {
      if (!c.closed()) c.close();
    }
    co_await yield();
  }(rt, path, format, keep_frames));
  recording rec = read_recording(path.string());
  fs::remove(path);
  return rec;
}

TEST_CASE("periodic_sampler: kept frames make the recording copied frames make") {
  for (const auto format : {recording_encoding::v2, recording_encoding::jsonl}) {
    INFO(to_string(format));
    const recording kept = record_moving(true, format);
    const recording copied = record_moving(false, format);
    CHECK(kept.tables.sites == copied.tables.sites);
    CHECK(kept.tables.frames == copied.tables.frames);
    CHECK(kept.tables.stacks == copied.tables.stacks);
    CHECK(copied.tables.stacks.size() >= 4);  // the workload moved frames and lines
    REQUIRE(kept.samples.size() == 13);
    REQUIRE(copied.samples.size() == 13);
    for (std::size_t i = 0; i < kept.samples.size(); ++i) {
      INFO("sample " << i);
      const auto& a = kept.samples[i].goroutines;
      const auto& b = copied.samples[i].goroutines;
      REQUIRE(a.size() == b.size());
      for (std::size_t k = 0; k < a.size(); ++k) {
        INFO("goroutine " << a[k].id);
        CHECK(a[k].id == b[k].id);
        CHECK(a[k].stack == b[k].stack);
        CHECK(a[k].site == b[k].site);
        CHECK(a[k].state == b[k].state);
        CHECK(a[k].resumes == b[k].resumes);
      }
    }
  }
}

TEST_CASE("periodic_sampler: stop() is prompt even with a long interval") {
  const auto path = temp_file("prompt");
  std::chrono::steady_clock::duration took{};
  with_three_waiting([&](runtime& rt) {
    auto session =
        start_recording(rt, path.string(), {.sampling = {.interval_ns = 3'600'000'000'000}});
    auto t0 = std::chrono::steady_clock::now();
    session->stop(end_reason::interrupted);
    took = std::chrono::steady_clock::now() - t0;
  });
  CHECK(took < std::chrono::seconds(1));
  auto rec = read_recording(path.string());
  CHECK(rec.samples.size() <= 1);
  REQUIRE(rec.end);
  CHECK(rec.end->reason == end_reason::interrupted);
  CHECK(rec.end->samples == rec.samples.size());
  fs::remove(path);
}

TEST_CASE("periodic_sampler: a duration limit ends sampling") {
  const auto path = temp_file("duration");
  with_three_waiting([&](runtime& rt) {
    auto session = start_recording(
        rt, path.string(), {.sampling = {.interval_ns = 5'000'000, .max_duration_ns = 30'000'000}});
    session->wait();
    CHECK(session->sampler().finished());
    CHECK(session->sampler().reason() == end_reason::duration);
  });  // the destructor writes the end line
  auto rec = read_recording(path.string());
  CHECK(rec.samples.size() >= 1);
  CHECK(rec.samples.size() <= 7);
  REQUIRE(rec.end);
  CHECK(rec.end->reason == end_reason::duration);
  fs::remove(path);
}

TEST_CASE("periodic_sampler: a write error stops it and is reported") {
  int p[2];
  REQUIRE(::pipe(p) == 0);
  ::close(p[0]);
  with_three_waiting([&](runtime& rt) {
    recording_writer w(p[1], "pipe");
    periodic_sampler s(rt, w, {.interval_ns = 1'000'000});
    s.start();
    s.wait();
    CHECK(s.finished());
    CHECK(s.reason() == end_reason::error);
    CHECK(s.samples_taken() == 0);
    REQUIRE(s.error());
    CHECK_THROWS_WITH_AS(std::rethrow_exception(s.error()), "writing pipe: Broken pipe",
                         std::system_error);
  });
  ::close(p[1]);
}

TEST_CASE("periodic_sampler: sample_now takes samples by hand; stats say what they cost") {
  const auto path = temp_file("by-hand");
  with_three_waiting([&](runtime& rt) {
    recording_writer w = recording_writer::create(path.string(), recording_encoding::v2);
    w.write_header(header_for(rt, 0));
    periodic_sampler s(rt, w, {});
    s.sample_now();  // the first is full: the three waiting and main
    sampler_stats st = s.stats();
    CHECK(st.samples == 1);
    CHECK(st.full == 1);
    CHECK(st.records == 4);
    s.sample_now();  // a delta: only main (running at the previous one) is read again
    st = s.stats();
    CHECK(s.samples_taken() == 2);
    CHECK(st.samples == 2);
    CHECK(st.full == 1);
    CHECK(st.records == 5);
    CHECK(st.missed_ticks == 0);
    CHECK(st.snapshot_ns + st.symbolise_ns + st.apply_ns + st.write_ns <= st.busy_ns);
    CHECK(st.max_sample_ns <= st.busy_ns);
  });
  auto rec = read_recording(path.string());
  REQUIRE(rec.samples.size() == 2);
  CHECK(rec.samples[1].seq == 1);
  CHECK(rec.samples[1].goroutines.size() == 4);
  fs::remove(path);
}

TEST_CASE("start_recording: an unwritable path throws at once") {
  with_three_waiting([&](runtime& rt) {
    CHECK_THROWS_AS(start_recording(rt, "/nonexistent-dir/rec.jsonl"), std::system_error);
    CHECK_THROWS_WITH_AS(start_recording(rt, "/dev/full"),
                         "writing /dev/full: No space left on device", std::system_error);
  });
}

}  // namespace
}  // namespace gprofid
