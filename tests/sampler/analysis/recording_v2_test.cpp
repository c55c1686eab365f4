// Recording format v2: what the encoder writes, the reader returns the same (for every kind of
// change, keyframe interval and compression), unchanged goroutines cost nothing, and each kind of
// damaged input is one error line naming the file, the offset and the block, after everything
// before it was read.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "gprofid/analysis/recording_reader.hpp"
#include "gprofid/recording/recording_format_v2.hpp"
#include "gprofid/recording/sample_state.hpp"
#include "gprofid/recording/v2_blocks.hpp"
#include "gprofid/recording/v2_encoder.hpp"
#include "gprofid/recording/varint.hpp"
#include "gprofid/testing/synthetic_churn.hpp"
#include "test_support.hpp"

namespace gprofid {
namespace {

namespace fs = std::filesystem;
namespace v2 = recording_format_v2;
namespace bit = recording_format_v2::field_bit;

const fs::path corpus_dir = fs::path(GPROFID_SOURCE_DIR) / "fuzz" / "corpus" / "reader";

recording_header test_header() {
  recording_header h;
  h.workload = "w";
  h.command_line = {"w", "--x", "caf\xC3\xA9"};
  h.pid = 42;
  h.interval_ns = 10;
  h.start_wall = "1970-01-01T00:00:00.000000000Z";
  h.start_unix_ns = -5;
  h.start_monotonic_ns = 77;
  h.workers = 2;
  return h;
}

symbol_tables test_tables() {
  symbol_tables t;
  t.sites = {{"main", "m.cpp", 1, 0}, {"spawn()", "m.cpp", 9, 0x401000}};
  t.frames = {{"f()", "m.cpp", 5, 0x20}, {"g()", "g.cpp", 7, 0xFFFFFFFFFFFFFFFF}};
  t.stacks = {{0}, {1, 0}};
  return t;
}

// A goroutine spawned by 1, parked in a channel receive for `wait_ns`.
goroutine_sample waiting(std::uint64_t id, std::int64_t wait_ns) {
  return testing::parked_goroutine(id, {.created_ns = 3, .wait_ns = wait_ns});
}

wait_object channel_object(std::uint64_t id) {
  wait_object o;
  o.id = id;
  o.kind = wait_object_kind::channel;
  o.capacity = 4;
  o.handles = 2;
  o.receivers = 1;
  o.held_by = {2, 1000};
  return o;
}

// A wait-for graph that changes in every way: objects appear, change fields (flags, lists,
// counters, even their kind), stay the same, and go; blocked_on follows.
void add_graph(std::vector<sample>& out) {
  wait_object mutex;
  mutex.id = 0x7f0000001000;
  mutex.kind = wait_object_kind::mutex;
  mutex.locked = true;
  mutex.owner = 1;
  mutex.queue = {3, 2};
  mutex.locked_at = 2;  // frame 1 of test_tables()
  wait_object select;
  select.id = 0x7f0000000040;
  select.kind = wait_object_kind::select;
  select.cases = {0x7f0000002000, 0x7f0000000100};
  select.send_cases = {0x7f0000000100};
  select.nil_cases = 1;
  // Timers and descriptors (v1 more_objects, v2 sample field 2); the channel has a timer.
  wait_object timer;
  timer.id = 0x7f0000003000;
  timer.kind = wait_object_kind::timer;
  timer.when_ns = 5'000'000'000;
  timer.period_ns = 1'000'000'000;
  wait_object fd;
  fd.id = 0x20;
  fd.kind = wait_object_kind::fd;
  fd.fd = 7;
  fd.write = true;
  auto timed = channel_object(0x7f0000002000);
  timed.timer = timer.id;
  out[0].objects = {fd, select, mutex, timed, timer};
  out[0].goroutines[1].blocked_on = 0x7f0000002000;
  out[0].goroutines[2].blocked_on = 0x7f0000001000;
  // The channel closes and drains, the mutex is unlocked, a wait group appears; 2 still waits.
  wait_object group;
  group.id = 0x10;
  group.kind = wait_object_kind::wait_group;
  group.counter = -3;
  group.waiters = UINT32_MAX;
  auto ch = channel_object(0x7f0000002000);
  ch.closed = true;
  ch.held_by.clear();
  ch.count = UINT64_MAX;
  mutex.locked = false;
  mutex.owner = 0;
  mutex.locked_at = 0;
  mutex.queue = {2};
  timer.when_ns = 6'000'000'000;  // a tick later
  fd.fd = -1;
  fd.write = false;
  out[1].objects = {group, fd, select, mutex, ch, timer};
  out[1].goroutines[1].blocked_on = 0x7f0000002000;
  out[1].goroutines[3].blocked_on = 0x10;
  out[1].goroutines[4].blocked_on = 0x20;
  // The select, the mutex, the fd and the timer go; the wait group's address now holds an
  // event, the mutex's a sleep's timer (an id moving from field 1 to field 2).
  wait_object event;
  event.id = 0x10;
  event.kind = wait_object_kind::event;
  event.set = true;
  wait_object sleep;
  sleep.id = 0x7f0000001000;
  sleep.kind = wait_object_kind::timer;
  sleep.when_ns = -4;
  out[2].objects = {event, sleep, ch};
  out[2].goroutines[1].blocked_on = 0x10;
  out[2].goroutines[2].blocked_on = UINT64_MAX;  // no such object: readers do not check
  out[3].objects = out[2].objects;               // unchanged
  out[3].goroutines[1].blocked_on = 0x10;
  out[3].goroutines[2].blocked_on = UINT64_MAX;
  // Everything goes.
}

// Five samples with every kind of change: creations, exits, state, stack, labels, counters,
// a wait that restarts, extreme values.
std::vector<sample> test_samples() {
  const auto tenant = std::make_shared<const label_set>(label_set{{"tenant", "t-1"}});
  std::vector<sample> out(5);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i].seq = i;
    out[i].time_ns = 100 * static_cast<std::int64_t>(i) + 7;
    out[i].duration_ns = 3;
    out[i].pause_ns = static_cast<std::int64_t>(i);
  }
  goroutine_sample main_g;
  main_g.id = 1;
  main_g.state = goroutine_state::running;
  main_g.running_ns = 50;
  out[0].goroutines = {main_g, waiting(2, 4), waiting(3, 4)};
  out[0].goroutines[2].labels = tenant;
  // 2 waits on (wait_ns advances by 100), 3 wakes up, 4 and 1000 are new.
  main_g.running_ns = 150;
  main_g.resumes = 2;
  out[1].goroutines = {main_g, waiting(2, 104), waiting(3, 0), waiting(4, 0), waiting(1000, 9)};
  out[1].goroutines[2].state = goroutine_state::runnable;
  out[1].goroutines[2].reason = wait_reason::none;
  out[1].goroutines[2].labels = tenant;
  out[1].goroutines[3].labels = std::make_shared<const label_set>(*tenant);  // same content
  // 2 and 3 exit; 4 moves to another stack and waits again from 0; extreme counters.
  out[2].goroutines = {main_g, waiting(4, 0), waiting(1000, 109)};
  out[2].goroutines[1].stack = 0;
  out[2].goroutines[2].running_ns = INT64_MIN;
  out[2].goroutines[2].runnable_ns = INT64_MAX;
  out[2].goroutines[2].resumes = UINT64_MAX;
  // Nothing changes but the time.
  out[3].goroutines = out[2].goroutines;
  out[3].goroutines[2].wait_ns = 209;
  // Everything exits but 1, which changes site and parent.
  out[4].goroutines = {main_g};
  out[4].goroutines[0].site = 1;
  out[4].goroutines[0].parent_id = UINT64_MAX;
  out[4].goroutines[0].created_ns = INT64_MIN;
  add_graph(out);
  return out;
}

std::string encode(const std::vector<sample>& samples, v2_options options = {},
                   const recording_end* end = nullptr) {
  v2_encoder enc(options);
  std::string out;
  enc.append_header(out, test_header());
  for (const auto& s : samples) enc.append_sample(out, s, test_tables());
  if (end) v2_encoder::append_end(out, *end);
  return out;
}

bool same_labels(const label_ptr& a, const label_ptr& b) {
  const bool la = a && !a->empty(), lb = b && !b->empty();
  return la == lb && (!la || *a == *b);
}

void check_same(const sample& got, const sample& want) {
  CHECK(got.seq == want.seq);
  CHECK(got.time_ns == want.time_ns);
  CHECK(got.duration_ns == want.duration_ns);
  CHECK(got.pause_ns == want.pause_ns);
  REQUIRE(got.goroutines.size() == want.goroutines.size());
  for (std::size_t i = 0; i < got.goroutines.size(); ++i) {
    const auto& a = got.goroutines[i];
    const auto& b = want.goroutines[i];
    INFO("sample ", want.seq, " goroutine ", b.id);
    CHECK(a.id == b.id);
    CHECK(a.parent_id == b.parent_id);
    CHECK(a.site == b.site);
    CHECK(a.stack == b.stack);
    CHECK(a.state == b.state);
    CHECK(a.reason == b.reason);
    CHECK(a.created_ns == b.created_ns);
    CHECK(a.wait_ns == b.wait_ns);
    CHECK(same_labels(a.labels, b.labels));
    CHECK(a.resumes == b.resumes);
    CHECK(a.running_ns == b.running_ns);
    CHECK(a.runnable_ns == b.runnable_ns);
    CHECK(a.blocked_on == b.blocked_on);
  }
  CHECK(got.objects == want.objects);
}

using testing::read_result;
read_result read_all(const std::string& bytes) {
  return testing::read_all(bytes, "t.gprofid");
}

TEST_CASE("v2: the reader returns what the encoder was given, for every keyframe interval") {
  const auto samples = test_samples();
  const recording_end end{5, end_reason::samples, 0, std::nullopt};
  for (std::uint32_t k : {1u, 2u, 3u, 100u}) {
    for (int level : {0, 1, 2}) {
      // Level 2: level 1 with delta blocks compressed too; each also as the revision before
      // sample flag columns wrote it.
      for (const bool columns : {true, false}) {
        INFO("keyframe every ", k, " samples, zstd level ", level, ", columns ", columns);
        v2_options o;
        o.keyframe_samples = k;
        o.zstd_level = level == 0 ? 0 : 1;
        o.compress_deltas = level == 2;
        o.column_coding = columns;
        o.compress_min_bytes = 1;
        const std::string bytes = encode(samples, o, &end);
        std::istringstream in(bytes);
        recording_reader r(in, "t.gprofid");
        recording_header want_header = test_header();
        want_header.version = 2;
        CHECK(r.header() == want_header);
        sample s;
        for (const auto& want : samples) {
          REQUIRE(r.next(s));
          check_same(s, want);
        }
        CHECK_FALSE(r.next(s));
        CHECK(r.tables().sites == test_tables().sites);
        CHECK(r.tables().frames == test_tables().frames);
        CHECK(r.tables().stacks == test_tables().stacks);
        REQUIRE(r.end());
        CHECK(*r.end() == end);
        CHECK(r.warnings().empty());
      }
    }
  }
}

// What changed from `a` to `b`, as the periodic sampler's deltas give it: goroutines that
// differ in anything but a wait grown by the time between the samples, new ones, and exits.
// With `edges`, those that differ only in blocked_on are wait edges, as deltas with the
// wait-for graph give the goroutines that did not run.
sample_delta delta_between(const sample& a, const sample& b, bool edges = false) {
  sample_delta d{b.seq, b.time_ns, b.duration_ns, b.pause_ns, {}, {}};
  for (const auto& g : b.goroutines) {
    const goroutine_sample* before = find_goroutine(a, g.id);
    goroutine_sample grown = before ? *before : goroutine_sample{};
    if (before && before->state == goroutine_state::waiting) {
      grown.wait_ns += b.time_ns - a.time_ns;
    }
    if (!before || grown.state != g.state || grown.reason != g.reason ||
        grown.wait_ns != g.wait_ns || grown.stack != g.stack || grown.site != g.site ||
        grown.parent_id != g.parent_id || grown.created_ns != g.created_ns ||
        !same_labels(grown.labels, g.labels) || grown.resumes != g.resumes ||
        grown.running_ns != g.running_ns || grown.runnable_ns != g.runnable_ns) {
      d.changed.push_back(g);
    } else if (grown.blocked_on != g.blocked_on) {
      if (edges) {
        d.waits.push_back({g.id, g.blocked_on});
      } else {
        d.changed.push_back(g);
      }
    }
  }
  for (const auto& g : a.goroutines) {
    if (!find_goroutine(b, g.id)) d.exited.push_back(g.id);
  }
  return d;
}

TEST_CASE("v2: deltas (append_delta) read back as the samples they change, for every keyframe") {
  auto samples = test_samples();
  // A goroutine that did not run but whose wait moved to another object: a wait edge.
  samples[3].goroutines[2].blocked_on = 0x10;
  for (const bool graph : {false, true})
    for (const bool columns : {true, false})
      for (std::uint32_t k : {1u, 2u, 3u, 100u}) {
        INFO("keyframe every ", k, " samples, deltas with the graph: ", graph, ", columns ",
             columns);
        v2_options o;
        o.keyframe_samples = k;
        o.column_coding = columns;
        v2_encoder enc(o);
        std::string bytes;
        enc.append_header(bytes, test_header());
        sample_state state;  // the reference: what the samples are
        std::vector<sample> want;
        // The same recording with each keyframe written whole (append_sample), as the sampler
        // did while it kept a copy of the sample: the bytes must be the same.
        v2_encoder whole(o);
        std::string whole_bytes;
        whole.append_header(whole_bytes, test_header());
        for (std::size_t i = 0; i < samples.size(); ++i) {
          if (i == 0) {
            state.reset(samples[0]);
            enc.append_sample(bytes, samples[0], test_tables());
            whole.append_sample(whole_bytes, samples[0], test_tables());
          } else {
            sample_delta d = delta_between(samples[i - 1], samples[i], graph);
            d.graph = graph;
            if (graph) d.objects = samples[i].objects;
            // A delta when a keyframe is due is written as one, from the encoder's own state.
            const bool keyframe = enc.wants_keyframe(d.time_ns);
            const auto keyframes = enc.stats().keyframes;
            enc.append_delta(bytes, d, test_tables());
            CHECK(enc.stats().keyframes == keyframes + (keyframe ? 1 : 0));
            if (whole.wants_keyframe(d.time_ns)) {
              sample_delta copy = d;
              state.apply(copy);
              sample full;
              state.materialise(full);
              whole.append_sample(whole_bytes, full, test_tables());
            } else {
              whole.append_delta(whole_bytes, d, test_tables());
              state.apply(d);
            }
            CHECK(enc.goroutines() == state.size());
          }
          want.emplace_back();
          state.materialise(want.back());
          // The state is the sample itself; without a graph in the deltas, the graph stays that
          // of the first sample.
          sample same_graph = samples[i];
          if (!graph) same_graph.objects = samples[0].objects;
          check_same(want.back(), same_graph);
        }
        CHECK(enc.stats().keyframes == (k == 1 ? 5 : k == 2 ? 3 : k == 3 ? 2 : 1));
        CHECK(bytes == whole_bytes);
        const read_result r = read_all(bytes);
        CHECK(r.error.empty());
        REQUIRE(r.samples.size() == want.size());
        for (std::size_t i = 0; i < want.size(); ++i) check_same(r.samples[i], want[i]);
      }
}

TEST_CASE("v2: a delta drops exits of goroutines it does not hold, rejects an exit and change") {
  const auto samples = test_samples();
  v2_encoder enc;
  std::string bytes;
  enc.append_header(bytes, test_header());
  enc.append_sample(bytes, samples[0], test_tables());
  sample_delta d = delta_between(samples[0], samples[1]);
  d.exited.push_back(999);  // the runtime may name one that ended before the recording saw it
  enc.append_delta(bytes, d, test_tables());
  CHECK(enc.goroutines() == samples[1].goroutines.size());
  const read_result r = read_all(bytes);
  CHECK(r.error.empty());
  REQUIRE(r.samples.size() == 2);
  sample_state state;
  state.reset(samples[0]);
  sample_delta same = delta_between(samples[0], samples[1]);
  state.apply(same);
  sample want;
  state.materialise(want);
  check_same(r.samples[1], want);

  sample_delta both = delta_between(samples[1], samples[2]);
  REQUIRE(!both.exited.empty());
  both.changed.insert(both.changed.begin(), samples[1].goroutines[1]);  // goroutine 2, exiting
  CHECK_THROWS_AS(enc.append_delta(bytes, both, test_tables()), std::logic_error);
}

TEST_CASE("v2: every v1 corpus recording reads back the same after encoding") {
  for (const auto& entry : fs::directory_iterator(corpus_dir)) {
    INFO(entry.path().string());
    const recording rec = read_recording(entry.path().string());
    v2_options o;
    o.keyframe_samples = 2;
    v2_encoder enc(o);
    std::string bytes;
    enc.append_header(bytes, rec.header);
    for (const auto& s : rec.samples) enc.append_sample(bytes, s, rec.tables);
    const read_result back = read_all(bytes);
    CHECK(back.error == "");
    REQUIRE(back.samples.size() == rec.samples.size());
    for (std::size_t i = 0; i < rec.samples.size(); ++i)
      check_same(back.samples[i], rec.samples[i]);
  }
}

// An uncompressed encoder and its output, to measure what each sample costs.
struct sized_encoder {
  v2_encoder enc{v2_options{.zstd_level = 0}};
  std::string bytes;
  sized_encoder() { enc.append_header(bytes, test_header()); }
  std::size_t append(const sample& s) {
    const std::size_t before = bytes.size();
    enc.append_sample(bytes, s, test_tables());
    return bytes.size() - before;
  }
};

// The next sample, 100 ms later, in which every waiting goroutine still waits (as predicted).
void advance(sample& s) {
  ++s.seq;
  s.time_ns += 100'000'000;
  for (auto& g : s.goroutines) g.wait_ns += 100'000'000;
}

TEST_CASE("v2: hostile numbers read back exactly; a repeated seq and a wrong count are warnings") {
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  constexpr auto min = std::numeric_limits<std::int64_t>::min();
  std::vector<sample> samples(4);
  const std::uint64_t seqs[] = {0, 0, 7, 3};
  const std::int64_t times[] = {min, max, 0, max - 1};
  for (std::size_t i = 0; i < samples.size(); ++i) {
    samples[i].seq = seqs[i];
    samples[i].time_ns = times[i];
    samples[i].duration_ns = i % 2 ? max : min;
    goroutine_sample g =
        waiting(std::numeric_limits<std::uint64_t>::max() - i % 2, i % 2 ? max : min);
    g.created_ns = i % 2 ? min : max;
    g.running_ns = max;
    g.resumes = std::numeric_limits<std::uint64_t>::max();
    samples[i].goroutines = {waiting(2, max), g};
  }
  const recording_end end{57, end_reason::completed, 0, std::nullopt};
  for (std::uint32_t k : {1u, 100u}) {
    INFO("keyframe every ", k, " samples");
    v2_options o;
    o.keyframe_samples = k;
    const read_result r = read_all(encode(samples, o, &end));
    REQUIRE(r.error.empty());
    REQUIRE(r.samples.size() == samples.size());
    for (std::size_t i = 0; i < samples.size(); ++i) check_same(r.samples[i], samples[i]);
    REQUIRE(r.warnings.size() == 3);
    CHECK(r.warnings[0].find("t.gprofid: offset ") == 0);
    CHECK(r.warnings[0].find(": sample seq 0 repeats (offset ") != std::string::npos);
    CHECK(r.warnings[1].find(": sample seq 3 goes back from 7 (offset ") != std::string::npos);
    CHECK(r.warnings[2].find("the end block says 57 samples, the file has 4") != std::string::npos);
  }
}

TEST_CASE("v2: unchanged goroutines cost nothing; a changed one a few bytes") {
  sample s;
  for (std::uint64_t id = 1; id <= 1000; ++id) s.goroutines.push_back(waiting(id, 5));
  sized_encoder e;
  e.append(s);
  advance(s);
  const std::size_t unchanged = e.append(s);
  CHECK(unchanged < 32);  // the block header and the sample's own fields
  advance(s);
  for (auto& g : s.goroutines) {
    if (g.id % 10 == 0) {  // 100 of them ran: state, stack, counters
      g.state = goroutine_state::runnable;
      g.reason = wait_reason::none;
      g.wait_ns = 0;
      g.stack = 0;
      g.resumes += 1;
      g.running_ns += 23'456;
      g.runnable_ns += 1'234;
    }
  }
  const double per_changed = double(e.append(s) - unchanged) / 100;
  MESSAGE("bytes per changed goroutine: ", per_changed);
  CHECK(per_changed <= 16);
  CHECK(e.enc.stats().keyframes == 1);
}

TEST_CASE("v2: an unchanged wait-for graph costs nothing; a changed object a few bytes") {
  // 1000 goroutines parked on 100 channels.
  sample s;
  for (std::uint64_t i = 0; i < 100; ++i)
    s.objects.push_back(channel_object(0x7f0000100000 + i * 96));
  for (std::uint64_t id = 1; id <= 1000; ++id) {
    s.goroutines.push_back(waiting(id, 5));
    s.goroutines.back().blocked_on = s.objects[id % 100].id;
  }
  sized_encoder e;
  e.append(s);
  advance(s);
  const std::size_t unchanged = e.append(s);
  CHECK(unchanged < 32);  // as without a graph: the block header and the sample's own fields
  // One channel gets a value and loses a handle; one goroutine moves to another channel.
  advance(s);
  s.objects[7].count = 1;
  s.objects[7].handles = 1;
  s.goroutines[10].blocked_on = s.objects[3].id;
  const std::size_t changed = e.append(s) - unchanged;
  MESSAGE("bytes for one changed object and one changed blocked_on: ", changed);
  CHECK(changed <= 32);  // mostly the two addresses (7 bytes each)
  const read_result back = read_all(e.bytes);
  REQUIRE(back.samples.size() == 3);
  check_same(back.samples[2], s);
}

// A recording whose first sample (goroutine 1, waiting) is fine, followed by `block`.
struct damaged {
  std::string bytes;
  std::size_t block_at;  // where the appended block starts
};
damaged after_first_sample(std::uint8_t type, const std::string& payload, std::uint8_t flags = 0) {
  sample s;
  s.goroutines = {waiting(1, 5)};
  v2_options o;
  o.zstd_level = 0;
  damaged d{encode({s}, o), 0};
  d.block_at = d.bytes.size();
  v2_blocks::append(d.bytes, type, flags, payload);
  return d;
}

// A delta sample payload: seq 1, t 100, `count` goroutines alive, the exits and records given.
std::string delta_payload(std::uint64_t count, const std::vector<std::uint64_t>& exits,
                          const std::vector<std::vector<std::uint64_t>>& records,
                          std::uint64_t n_records = UINT64_MAX) {
  std::string p;
  varint::append(p, 0);  // flags: a delta
  varint::append(p, 1);  // seq
  varint::append_signed(p, 100);
  varint::append_signed(p, 1);
  varint::append_signed(p, 0);
  varint::append(p, count);
  varint::append(p, exits.size());
  for (auto e : exits) varint::append(p, e);
  varint::append(p, n_records == UINT64_MAX ? records.size() : n_records);
  for (const auto& r : records) {
    for (auto v : r) varint::append(p, v);
  }
  return p;
}

constexpr std::uint8_t sample_type = static_cast<std::uint8_t>(v2::block_type::sample);

std::string at(const damaged& d, std::size_t payload_byte, int block) {
  return "t.gprofid: offset " + std::to_string(d.block_at + v2::block_header_size + payload_byte) +
         ", block " + std::to_string(block) + " (sample 1): ";
}

TEST_CASE("v2: each damaged input is one error line with file, offset and block") {
  // The blocks of after_first_sample: header 1, tables 2, sample 3; the damage is block 4.
  SUBCASE("a delta for an id that does not exist") {
    const auto d = after_first_sample(sample_type, delta_payload(1, {}, {{7, bit::stack, 0}}));
    const auto r = read_all(d.bytes);
    CHECK(r.samples.size() == 1);  // what came before is read
    CHECK(r.error == at(d, 9, 4) + "delta for goroutine 7, which does not exist");
  }
  SUBCASE("an id that goes backwards") {
    const auto d = after_first_sample(
        sample_type, delta_payload(2, {}, {{1, bit::stack, 0}, {0, bit::created}}));
    CHECK(read_all(d.bytes).error ==
          at(d, 12, 4) + "goroutine ids must increase (goes from 1 by 0)");
  }
  SUBCASE("an exit of an id that is not alive") {
    const auto d = after_first_sample(sample_type, delta_payload(1, {9}, {}));
    CHECK(read_all(d.bytes).error == at(d, 6, 4) + "exit of goroutine 9, which is not alive");
  }
  SUBCASE("a sample claiming 10^9 goroutines") {
    const auto d = after_first_sample(sample_type, delta_payload(1'000'000'000, {}, {}));
    CHECK(read_all(d.bytes).error == at(d, 6, 4) + "claims 1000000000 goroutines but holds 1");
    const auto e = after_first_sample(sample_type, delta_payload(1, {}, {}, 1'000'000'000));
    CHECK(read_all(e.bytes).error ==
          at(e, 8, 4) + "record count 1000000000 cannot fit in the 0 bytes left of the block");
  }
  SUBCASE("an overflowing varint") {
    std::string p = delta_payload(1, {}, {});
    p.resize(6);  // flags, seq, t_ns (2 bytes), snapshot_ns, pause_ns; then a count of 11 bytes
    p += std::string(10, '\xFF') + '\x01';
    const auto d = after_first_sample(sample_type, p);
    CHECK(read_all(d.bytes).error == at(d, 6, 4) + "goroutine count: varint overflows 64 bits");
  }
  SUBCASE("an unknown block type, and an optional one that is skipped") {
    const auto d = after_first_sample(9, "x");
    CHECK(read_all(d.bytes).error ==
          "t.gprofid: offset " + std::to_string(d.block_at) + ", block 4: unknown block type 9");
    const auto opt = after_first_sample(0x90, "x");
    const auto r = read_all(opt.bytes);
    CHECK(r.error == "");
    CHECK(r.samples.size() == 1);
  }
  SUBCASE("a bad checksum") {
    auto d = after_first_sample(sample_type, delta_payload(1, {}, {}));
    d.bytes.back() ^= 0x40;
    const auto r = read_all(d.bytes);
    CHECK(r.samples.size() == 1);
    CHECK(r.error == "t.gprofid: offset " + std::to_string(d.block_at) +
                         ", block 4: bad checksum (the block is corrupt)");
  }
  SUBCASE("a length far past the end of the file") {
    auto d = after_first_sample(sample_type, delta_payload(1, {}, {}));
    d.bytes[d.block_at + 5] = '\x7F';  // length ~2^31: over the limit
    CHECK(read_all(d.bytes).error ==
          "t.gprofid: offset " + std::to_string(d.block_at) + ", block 4: block length " +
              std::to_string(0x7F000000u + static_cast<std::uint8_t>(d.bytes[d.block_at + 2])) +
              " is over the format's limit of 1073741824 bytes");
  }
  SUBCASE("a zstd bomb: a few bytes that declare a GiB are refused before decompressing") {
    // The check is on the sizes alone, so the frame need not be real zstd.
    auto compressed = [](std::uint64_t declared, std::size_t frame_bytes) {
      std::string p;
      varint::append(p, declared);
      return p + "\x28\xb5\x2f\xfd" + std::string(frame_bytes - 4, '\0');
    };
    const auto d =
        after_first_sample(sample_type, compressed(1u << 30, 33'000), v2::block_flag::zstd);
    const auto r = read_all(d.bytes);
    CHECK(r.samples.size() == 1);
    CHECK(r.error == "t.gprofid: offset " + std::to_string(d.block_at) +
                         ", block 4 (sample): zstd frame of 33000 bytes declares 1073741824 "
                         "bytes, more than the format's limit of 1024 times its size (a "
                         "decompression bomb?)");
    // At the limit (and for small blocks at any ratio) the frame is decompressed: here it is
    // not zstd, and zstd says so.
    for (auto [declared, frame] : {std::pair<std::uint64_t, std::size_t>{1024 * 20, 20},
                                   std::pair<std::uint64_t, std::size_t>{4096, 5}}) {
      const auto e =
          after_first_sample(sample_type, compressed(declared, frame), v2::block_flag::zstd);
      const std::string error = read_all(e.bytes).error;
      CHECK(error.find("zstd") != std::string::npos);
      CHECK(error.find("decompression bomb") == std::string::npos);
    }
    CHECK(v2::zstd_size_allowed(4096, 1));
    CHECK_FALSE(v2::zstd_size_allowed(4097, 4));
    CHECK(v2::zstd_size_allowed(v2::max_block_bytes, v2::max_block_bytes / 1024));
    CHECK_FALSE(v2::zstd_size_allowed(v2::max_block_bytes, v2::max_block_bytes / 1024 - 1));
  }
  SUBCASE("a truncated last block: a warning, as v1's incomplete last line") {
    auto d = after_first_sample(sample_type, delta_payload(1, {}, {}));
    for (std::size_t cut : {std::size_t{3}, v2::block_header_size + 2}) {
      const auto r = read_all(d.bytes.substr(0, d.block_at + cut));
      CHECK(r.error == "");
      CHECK(r.samples.size() == 1);
      REQUIRE(r.warnings.size() == 2);
      CHECK(r.warnings[0] == "t.gprofid: offset " + std::to_string(d.block_at) +
                                 ": incomplete last block ignored (the recording was cut short)");
    }
  }
  SUBCASE("a damaged wait-for graph") {
    namespace of = v2::object_field;
    // The sample's trailing field 1 (objects) holding `graph`.
    auto with_graph = [](const std::string& graph) {
      std::string p = delta_payload(1, {}, {});
      varint::append(p, v2::sample_field::objects << 3 | v2::wire::bytes);
      varint::append(p, graph.size());
      return p + graph;
    };
    auto record = [](std::uint64_t id_delta, const std::string& fields) {
      std::string r;
      varint::append(r, id_delta);
      varint::append(r, fields.size());
      return r + fields;
    };
    auto field = [](std::uint32_t f, std::uint64_t v) {
      std::string r;
      varint::append(r, f << 3 | v2::wire::varint);
      varint::append(r, v);
      return r;
    };
    // delta_payload(1, {}, {}) is 9 bytes, then the field's key and length: the graph's byte k
    // is the payload's byte 11 + k.
    const auto base = after_first_sample(sample_type, with_graph(""));
    auto where = [&](std::size_t k) { return at(base, 11 + k, 4); };
    auto error_for = [&](const std::string& graph) {
      return read_all(after_first_sample(sample_type, with_graph(graph)).bytes).error;
    };
    CHECK(error_for(std::string("\x01\x05\x00", 3)) ==  // object 0x5 goes
          where(2) + "object 0x5 goes, but was not in the graph");
    CHECK(error_for(std::string("\x00\x01", 2) + record(0x40, field(of::capacity, 3))) ==
          where(2) + "object 0x40 has no kind");
    CHECK(error_for(std::string("\x00\x01", 2) + record(0x40, field(of::kind, 9))) ==
          where(5) + "object 0x40: unknown object kind 9");
    CHECK(error_for(std::string("\x00\x01", 2) +
                    record(0x40, field(of::kind, 1) + field(of::flags, 8))) ==
          where(7) + "object 0x40: unknown object flags 8");
    CHECK(error_for(std::string("\x00\x01", 2) +
                    record(0x40, field(of::kind, 1) + field(of::held_by, 1))) ==
          where(7) + "object 0x40: field 8 has the wrong wire type");
    CHECK(error_for(std::string("\x00\x02", 2) + record(0x40, field(of::kind, 1)) +
                    record(0, field(of::kind, 2))) ==
          where(6) + "object ids must increase (goes from 0x40 by 0)");
    CHECK(error_for(std::string("\x00\x01", 2) +
                    record(0x40, field(of::kind, 2) + field(of::locked_at, 9))) ==
          where(8) + "object 0x40 refers to undefined frame 8");
    CHECK(error_for(std::string("\x00\x09", 2)) ==
          where(1) + "object record count 9 cannot fit in the 0 bytes left of the block");
  }
  SUBCASE("a newer version, and not a recording") {
    std::string bytes = encode({});
    bytes[12] = 3;
    CHECK(read_all(bytes).error ==
          "t.gprofid: offset 0: recording format version 3 is newer than this gprof-id supports "
          "(2); use a newer gprof-id");
    bytes[1] = 'X';
    CHECK(read_all(bytes).error ==
          "t.gprofid: offset 0: not a gprof-id recording (unknown first bytes)");
  }
}

TEST_CASE("v2: a goroutine extension a newer writer added is skipped") {
  // Goroutine 1 changes its stack and carries an extension field unknown to this reader (tag 9,
  // varint 5) beside blocked_on; the sample has an unknown trailing field (tag 9, bytes).
  std::string ext;
  varint::append(ext, 9 << 3 | v2::wire::varint);
  varint::append(ext, 5);
  varint::append(ext, v2::goroutine_field::blocked_on << 3 | v2::wire::varint);
  varint::append(ext, 0x4000);
  std::vector<std::uint64_t> record = {1, bit::stack | bit::extension, 0, ext.size()};
  std::string p = delta_payload(1, {}, {record});
  p += ext;
  const std::string trailing = "per-sample bytes";
  varint::append(p, 9 << 3 | v2::wire::bytes);
  varint::append(p, trailing.size());
  p += trailing;
  const auto d = after_first_sample(sample_type, p);
  const auto r = read_all(d.bytes);
  CHECK(r.error == "");
  REQUIRE(r.samples.size() == 2);
  CHECK(r.samples[1].goroutines.at(0).stack == 0);
  CHECK(r.samples[1].goroutines.at(0).wait_ns == 5 + 100);
  CHECK(r.samples[1].goroutines.at(0).blocked_on == 0x4000);
  CHECK(r.samples[1].objects.empty());
}

// The payload of the last block of `bytes`, which starts at `at`.
std::string last_payload(const std::string& bytes, std::size_t at) {
  REQUIRE(bytes.size() >= at + v2::block_header_size);
  return bytes.substr(at + v2::block_header_size);
}

// Goroutines 10, 11, 12 waiting at t = 1000; 10 ms later each woke, ran and parked again, as
// docs/recording-format.md's example of sample flag bit 1 has them.
std::vector<sample> woken_one_after_another() {
  std::vector<sample> out(2);
  out[0].time_ns = 1000;
  out[1].seq = 1;
  out[1].time_ns = 1000 + 10'000'000;
  const std::int64_t wait[] = {-150000, -151200, -149900}, running[] = {2000, 2100, 1950},
                     runnable[] = {40000, 40500, 39800};
  for (std::uint64_t i = 0; i < 3; ++i) {
    out[0].goroutines.push_back(waiting(10 + i, 1'000'000));
    goroutine_sample g = waiting(10 + i, 11'000'000 + wait[i]);  // predicted: 11 ms
    g.resumes = 2;
    g.running_ns = running[i];
    g.runnable_ns = runnable[i];
    out[1].goroutines.push_back(g);
  }
  return out;
}

// The delta sample block of the example: flags, seq 1, t_ns, snapshot_ns 0, pause_ns 0, 3
// goroutines, no exits, the 3 records.
std::string example_payload(std::uint64_t flags, const std::string& records) {
  std::string p;
  varint::append(p, flags);
  varint::append(p, 1);
  varint::append_signed(p, 1000 + 10'000'000);
  varint::append_signed(p, 0);
  varint::append_signed(p, 0);
  varint::append(p, 3);
  varint::append(p, 0);
  varint::append(p, 3);
  return p + records;
}

std::string hex_bytes(const std::string& hex) {
  std::string out;
  std::istringstream in(hex);
  for (unsigned v; in >> std::hex >> v;) out += static_cast<char>(v);
  return out;
}

TEST_CASE("v2: sample flag columns: the spec's example, byte for byte, and its flag-clear form") {
  const auto samples = woken_one_after_another();
  const std::string with_flag = hex_bytes(
      "0A 78 DF A7 12 02 A0 1F 80 F1 04  01 78 DF 12 00 C8 01 E8 07  01 78 A8 14 00 AB 02 F7 0A");
  const std::string without = hex_bytes(
      "0A 78 DF A7 12 02 A0 1F 80 F1 04  01 78 BF BA 12 02 E8 20 E8 F8 04  "
      "01 78 97 A6 12 02 BC 1E F0 ED 04");
  REQUIRE(with_flag.size() == 29);
  REQUIRE(without.size() == 33);
  for (const bool columns : {true, false}) {
    INFO("columns ", columns);
    v2_options o;
    o.zstd_level = 0;
    o.column_coding = columns;
    v2_encoder enc(o);
    std::string bytes;
    enc.append_header(bytes, test_header());
    enc.append_sample(bytes, samples[0], test_tables());
    const std::size_t delta_at = bytes.size();
    enc.append_sample(bytes, samples[1], test_tables());
    // The keyframe carries the flag too; the delta is the example's.
    CHECK(static_cast<std::uint8_t>(bytes[delta_at]) == 3);  // a sample block
    CHECK(last_payload(bytes, delta_at) ==
          example_payload(columns ? v2::sample_flag::columns : 0, columns ? with_flag : without));
    const read_result r = read_all(bytes);
    CHECK(r.error.empty());
    REQUIRE(r.samples.size() == 2);
    check_same(r.samples[0], samples[0]);
    check_same(r.samples[1], samples[1]);
  }
  // The flag-clear bytes with the flag set (or the other way) read as other values: the flag
  // is what tells the two apart.
  v2_options o;
  o.zstd_level = 0;
  std::string bytes = encode({samples[0]}, o);
  v2_blocks::append(bytes, sample_type, 0, example_payload(v2::sample_flag::columns, without));
  const read_result r = read_all(bytes);
  CHECK(r.error.empty());
  REQUIRE(r.samples.size() == 2);
  CHECK(r.samples[1].goroutines[1].wait_ns == 11'000'000 - 150000 - 151200);
}

TEST_CASE("v2: column deltas add modulo 2^64, and unknown sample flags are an error") {
  // After goroutine 1 (waiting): 2 and 3 are created with parents 0 - 2 (wrapping) and
  // -2 + 5, and created_ns - t_ns = INT64_MAX and then INT64_MAX + 2 (wrapping); 1's
  // running_ns goes from 0 by INT64_MIN.
  const std::uint64_t created = bit::created | bit::created_ns | bit::parent;
  const std::vector<std::vector<std::uint64_t>> records = {
      {1, bit::running_ns, varint::zigzag(std::numeric_limits<std::int64_t>::min())},
      {1, created, varint::zigzag(-2), varint::zigzag(std::numeric_limits<std::int64_t>::max())},
      {1, created, varint::zigzag(5), varint::zigzag(2)},
  };
  std::string p = delta_payload(3, {}, records);
  p[0] = static_cast<char>(v2::sample_flag::columns);
  const auto d = after_first_sample(sample_type, p);
  const auto r = read_all(d.bytes);
  REQUIRE(r.error == "");
  REQUIRE(r.samples.size() == 2);
  const auto& g = r.samples[1].goroutines;
  REQUIRE(g.size() == 3);
  CHECK(g[0].running_ns == std::numeric_limits<std::int64_t>::min());
  CHECK(g[1].parent_id == std::numeric_limits<std::uint64_t>::max() - 1);    // 0 + -2
  CHECK(g[1].created_ns == std::numeric_limits<std::int64_t>::min() + 99);   // 100 + INT64_MAX
  CHECK(g[2].parent_id == 3);                                                // 0 + (-2 + 5)
  CHECK(g[2].created_ns == std::numeric_limits<std::int64_t>::min() + 101);  // 100 + INT64_MAX + 2

  std::string unknown = delta_payload(1, {}, {});
  unknown[0] = 4;
  const auto e = after_first_sample(sample_type, unknown);
  CHECK(read_all(e.bytes).error == at(e, 0, 4) + "unknown sample flags 4");
}

TEST_CASE("v2: recordings written before sample flag columns read the same as with it") {
  // The v2 seed corpus was written by the revision before the flag (every sample block has
  // it clear); read, encoded again (with the flag) and read back, every sample is the same.
  const fs::path v2_corpus = fs::path(GPROFID_SOURCE_DIR) / "fuzz" / "corpus" / "reader_v2";
  int read = 0;
  for (const char* name : {"http.rec", "http-recorded.rec", "graph-deadlock.rec", "leak.rec",
                           "worker-pool.rec", "pipeline.rec"}) {
    INFO(name);
    std::ifstream in(v2_corpus / name, std::ios::binary);
    const std::string old_bytes{std::istreambuf_iterator<char>(in), {}};
    const read_result old = read_all(old_bytes);
    REQUIRE(old.error == "");
    REQUIRE(!old.samples.empty());
    std::istringstream header_in(old_bytes);
    recording_reader header_reader(header_in, "t.gprofid");
    v2_encoder enc(v2_options{.keyframe_samples = 3});
    std::string bytes;
    enc.append_header(bytes, header_reader.header());
    sample s;
    while (header_reader.next(s)) enc.append_sample(bytes, s, header_reader.tables());
    const read_result back = read_all(bytes);
    CHECK(back.error == "");
    REQUIRE(back.samples.size() == old.samples.size());
    for (std::size_t i = 0; i < old.samples.size(); ++i)
      check_same(back.samples[i], old.samples[i]);
    ++read;
  }
  CHECK(read == 6);
}

TEST_CASE("v2: coded against the previous record, goroutines woken alike cost a few bytes") {
  // 1000 goroutines parked; 100 of them woke one after another: each waited about as long as
  // the one before, queued and ran about as long.
  sample s;
  for (std::uint64_t id = 1; id <= 1000; ++id) s.goroutines.push_back(waiting(id, 5));
  std::size_t sizes[2] = {};
  for (const bool columns : {true, false}) {
    v2_encoder enc{v2_options{.zstd_level = 0, .column_coding = columns}};
    std::string bytes;
    enc.append_header(bytes, test_header());
    sample t = s;
    enc.append_sample(bytes, t, test_tables());
    advance(t);
    for (auto& g : t.goroutines) {
      if (g.id % 10 != 0) continue;
      const auto k = static_cast<std::int64_t>(g.id);
      g.wait_ns = 37'000'000 + k * 150;  // woken 1.5 us apart (every 10th)
      g.resumes += 1;
      g.running_ns += 2'000 + k % 7 * 100;
      g.runnable_ns += 155'000'000 + k % 13 * 100;
    }
    const std::size_t before = bytes.size();
    enc.append_sample(bytes, t, test_tables());
    sizes[columns ? 0 : 1] = bytes.size() - before;
    const read_result back = read_all(bytes);
    REQUIRE(back.samples.size() == 2);
    check_same(back.samples[1], t);
  }
  MESSAGE("bytes per changed goroutine with columns ", double(sizes[0]) / 100, ", without ",
          double(sizes[1]) / 100);
  CHECK(sizes[0] <= 100 * 10);
  CHECK(sizes[0] * 4 < sizes[1] * 3);
}

}  // namespace
}  // namespace gprofid
