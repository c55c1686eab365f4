#include "gprofid/analysis/export_pprof.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <set>
#include <string>

#include "profile.pb.h"

namespace gprofid {
namespace {

namespace pb = perftools::profiles;

// main (goroutine 1) has spawned workers 41..43 from one site: two wait on a channel in the same
// stack, one is runnable in another.
struct fixture {
  symbol_tables tables;
  sample s;

  fixture() {
    tables.sites = {{"main()", "main.cpp", 5, 0x500}, {"main_task()", "main.cpp", 12, 0x600}};
    tables.frames = {{"main_task()", "main.cpp", 14, 0x1000},
                     {"worker(int)", "worker.cpp", 20, 0x2000},
                     {"consume(int)", "worker.cpp", 31, 0x2100},
                     {"produce(int)", "worker.cpp", 45, 0x2200}};
    tables.stacks = {{0}, {2, 1}, {3, 1}};
    s.seq = 3;
    s.time_ns = 5'000'000;
    s.goroutines = {
        {.id = 1, .site = 0, .stack = 0, .state = goroutine_state::running},
        {.id = 41,
         .parent_id = 1,
         .site = 1,
         .stack = 1,
         .state = goroutine_state::waiting,
         .reason = wait_reason::chan_receive,
         .wait_ns = 2'000'000},
        {.id = 42,
         .parent_id = 1,
         .site = 1,
         .stack = 1,
         .state = goroutine_state::waiting,
         .reason = wait_reason::chan_receive,
         .labels = with_label(nullptr, "request", "abc")},
        {.id = 43, .parent_id = 1, .site = 1, .stack = 2, .state = goroutine_state::runnable},
    };
  }
};

// The fixture with a wait-for graph: 41 holds the only handle to the channel it receives on
// (leaked: no one else can ever send), 42 receives on a channel with a handle elsewhere.
fixture with_leak() {
  fixture f;
  auto channel = [](std::uint64_t id, std::uint32_t handles, std::uint64_t holder) {
    wait_object o{.id = id, .kind = wait_object_kind::channel, .receivers = 1, .handles = handles};
    o.held_by = {holder};
    return o;
  };
  f.s.objects = {channel(0x100, 1, 41), channel(0x200, 2, 42)};
  f.s.goroutines[1].blocked_on = 0x100;
  f.s.goroutines[2].blocked_on = 0x200;
  f.s.goroutines[1].resumes = f.s.goroutines[2].resumes = 1;
  return f;
}

const std::string& str(const pb::Profile& p, std::int64_t i) {
  return p.string_table(i);
}

// The labels of a pprof sample as "key=value" (string) and "key#value" (numeric) entries.
std::vector<std::string> labels_of(const pb::Profile& p, const pb::Sample& s) {
  std::vector<std::string> out;
  for (const auto& l : s.label()) {
    out.push_back(l.str() ? str(p, l.key()) + "=" + str(p, l.str())
                          : str(p, l.key()) + "#" + std::to_string(l.num()));
  }
  return out;
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

TEST_CASE("pprof export is a goroutine profile with one labelled sample per goroutine") {
  fixture f;
  pb::Profile p;
  REQUIRE(p.ParseFromString(pprof_goroutine_profile_uncompressed(f.tables, f.s)));
  REQUIRE(p.string_table_size() > 0);
  CHECK(p.string_table(0).empty());
  // Go's names for a goroutine profile, by which profile stores recognise one.
  REQUIRE(p.sample_type_size() == 1);
  CHECK(str(p, p.sample_type(0).type()) == "goroutine");
  CHECK(str(p, p.sample_type(0).unit()) == "count");
  CHECK(str(p, p.period_type().type()) == "goroutine");
  CHECK(str(p, p.period_type().unit()) == "count");
  CHECK(p.time_nanos() == 0);
  REQUIRE(p.sample_size() == 4);

  const pb::Sample& g42 = p.sample(2);
  CHECK(g42.value_size() == 1);
  CHECK(g42.value(0) == 1);
  auto labels = labels_of(p, g42);
  CHECK(contains(labels, "goid#42"));
  CHECK(contains(labels, "parent_goid#1"));
  CHECK(contains(labels, "state=waiting"));
  CHECK(contains(labels, "wait_reason=chan receive"));
  CHECK(contains(labels, "gopc=main_task() main.cpp:12"));
  CHECK(contains(labels, "request=abc"));
  CHECK_FALSE(contains(labels_of(p, p.sample(0)), "wait_reason=none"));
  // Each label once, of one kind: a text copy of goid would make -tags count goroutines twice.
  for (const pb::Sample& sample : p.sample()) {
    std::set<std::string> keys;
    for (const auto& l : sample.label()) CHECK(keys.insert(str(p, l.key())).second);
  }
  // Numbers have units, else pprof drops the value 0 (main's parent_goid) when it reads them.
  for (const auto& l : p.sample(0).label()) {
    if (l.str() == 0) CHECK(str(p, l.num_unit()) != "");
  }
  CHECK(contains(labels_of(p, p.sample(0)), "parent_goid#0"));

  // Leaf first: consume at worker.cpp:31, then worker.
  REQUIRE(g42.location_id_size() == 2);
  auto location = [&](std::uint64_t id) -> const pb::Location& {
    for (const auto& l : p.location()) {
      if (l.id() == id) return l;
    }
    FAIL("no location " << id);
    return p.location(0);
  };
  const pb::Location& leaf = location(g42.location_id(0));
  CHECK(leaf.address() == 0x2100);
  REQUIRE(leaf.line_size() == 1);
  CHECK(leaf.line(0).line() == 31);
  const pb::Function* fn = nullptr;
  for (const auto& candidate : p.function()) {
    if (candidate.id() == leaf.line(0).function_id()) fn = &candidate;
  }
  REQUIRE(fn);
  CHECK(str(p, fn->name()) == "consume(int)");
  CHECK(str(p, fn->filename()) == "worker.cpp");
  // Frames shared by stacks are shared locations.
  CHECK(p.location_size() == 4);
}

TEST_CASE("pprof goroutineleak profile: only the goroutines the wait-for graph proves leaked") {
  const fixture f = with_leak();
  pb::Profile p;
  REQUIRE(p.ParseFromString(pprof_goroutineleak_profile_uncompressed(f.tables, f.s)));
  REQUIRE(p.sample_type_size() == 1);
  CHECK(str(p, p.sample_type(0).type()) == "goroutineleak");
  CHECK(str(p, p.sample_type(0).unit()) == "count");
  CHECK(str(p, p.period_type().type()) == "goroutineleak");
  REQUIRE(p.sample_size() == 1);
  const auto labels = labels_of(p, p.sample(0));
  CHECK(contains(labels, "goid#41"));
  CHECK(contains(labels, "leak_rule=closed-set"));
  CHECK(contains(labels, "blocked_on=0x100"));
  CHECK(contains(labels, "wait_reason=chan receive"));
  CHECK(p.sample(0).location_id_size() == 2);  // its stack, as in the goroutine profile

  // Nothing proven (no graph): a profile without samples, still of its type.
  fixture plain;
  REQUIRE(p.ParseFromString(pprof_goroutineleak_profile_uncompressed(plain.tables, plain.s)));
  CHECK(p.sample_size() == 0);
  CHECK(str(p, p.sample_type(0).type()) == "goroutineleak");
  // The goroutine profile of the same sample is unchanged by the graph: every goroutine, no
  // leak labels.
  REQUIRE(p.ParseFromString(pprof_goroutine_profile_uncompressed(f.tables, f.s)));
  CHECK(p.sample_size() == 4);
  for (const auto& sm : p.sample()) {
    for (const auto& l : labels_of(p, sm)) CHECK(l.rfind("leak_rule=", 0) != 0);
  }
}

TEST_CASE("pprof export dates the profile and names the program from the recording's header") {
  fixture f;
  recording_header h;
  h.start_unix_ns = 1'700'000'000'000'000'000;
  h.workload = "./server";
  h.command_line = {"./server", "--port", "8080"};
  const pprof_source source = pprof_source_of(h);
  CHECK(source.program == "./server");
  CHECK(source.command_line == "./server --port 8080");
  pb::Profile p;
  REQUIRE(p.ParseFromString(pprof_goroutine_profile_uncompressed(f.tables, f.s, source)));
  CHECK(p.time_nanos() == 1'700'000'000'005'000'000);
  REQUIRE(p.mapping_size() == 1);
  CHECK(str(p, p.mapping(0).filename()) == "./server");
  std::vector<std::string> comments;
  for (auto c : p.comment()) comments.push_back(str(p, c));
  CHECK(contains(comments, "./server --port 8080"));

  // Without a command line (an older recording), the workload names the program.
  h.command_line.clear();
  h.workload = "http";
  CHECK(pprof_source_of(h).program == "http");
}

TEST_CASE("pprof export saturates hostile times, ids and addresses") {
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  constexpr auto umax = std::numeric_limits<std::uint64_t>::max();
  fixture f;
  f.tables.frames[0].pc = umax;
  f.s.time_ns = max;
  f.s.goroutines[0].id = umax;
  f.s.goroutines[1].parent_id = umax;
  f.s.goroutines[1].wait_ns = std::numeric_limits<std::int64_t>::min();
  pb::Profile p;
  REQUIRE(p.ParseFromString(
      pprof_goroutine_profile_uncompressed(f.tables, f.s, {.start_unix_ns = max})));
  CHECK(p.time_nanos() == max);  // start + t_ns clamped, not wrapped to a date before 1970
  REQUIRE(p.mapping_size() == 1);
  CHECK(p.mapping(0).memory_limit() == umax);  // the highest pc + 1, clamped
  std::set<std::string> labels;
  for (const auto& smp : p.sample()) {
    for (const auto& l : labels_of(p, smp)) labels.insert(l);
  }
  CHECK(labels.count("goid#" + std::to_string(max)) == 1);  // never a negative id
  CHECK(labels.count("parent_goid#" + std::to_string(max)) == 1);
  CHECK(labels.count("wait_ns#" + std::to_string(std::numeric_limits<std::int64_t>::min())) == 1);
}

TEST_CASE("pprof export is gzip-compressed") {
  fixture f;
  std::string gz = pprof_goroutine_profile(f.tables, f.s);
  REQUIRE(gz.size() > 10);
  CHECK(static_cast<unsigned char>(gz[0]) == 0x1f);
  CHECK(static_cast<unsigned char>(gz[1]) == 0x8b);
}

// Runs a shell command and returns its standard output.
std::string run(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  REQUIRE(pipe);
  std::string out;
  std::array<char, 4096> buf;
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), pipe.get()))
    out.append(buf.data(), n);
  return out;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST_CASE("go tool pprof reads the exported profile") {
  if (std::system("command -v go >/dev/null 2>&1") != 0) {
    MESSAGE("skipped: `go` is not installed (Debian package golang-go), cannot run go tool pprof");
    return;
  }
  fixture f;
  auto dir =
      std::filesystem::temp_directory_path() / ("gprofid-pprof-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto file = (dir / "goroutines.pb.gz").string();
  std::ofstream(file, std::ios::binary) << pprof_goroutine_profile(f.tables, f.s);
  // pprof caches nothing for these reports, but keep it away from $HOME all the same.
  const std::string pprof =
      "HOME=" + dir.string() + " PPROF_TMPDIR=" + dir.string() + " go tool pprof ";

  SUBCASE("-raw lists every function, file and line") {
    std::string raw = run(pprof + "-raw " + file + " 2>&1");
    CHECK(raw.find("goroutine/count") != std::string::npos);
    CHECK(raw.find("PeriodType: goroutine count") != std::string::npos);
    CHECK(raw.find("consume(int) worker.cpp:31") != std::string::npos);
    CHECK(raw.find("worker(int) worker.cpp:20") != std::string::npos);
    CHECK(raw.find("main_task() main.cpp:14") != std::string::npos);
    CHECK(raw.find("goid:[42 goid]") != std::string::npos);
    CHECK(raw.find("wait_reason:[chan receive]") != std::string::npos);
  }
  SUBCASE("-traces shows each goroutine's stack with count 1") {
    std::string traces = run(pprof + "-traces " + file + " 2>&1");
    CHECK(count(traces, "         1   consume(int)\n             worker(int)\n") == 2);
    CHECK(count(traces, "         1   produce(int)\n             worker(int)\n") == 1);
    CHECK(count(traces, "         1   main_task()\n") == 1);
    CHECK(count(traces, "-----------+") == 5);  // one separator before each sample and at the end
  }
  SUBCASE("-tagfocus goid=N keeps exactly that goroutine") {
    std::string traces = run(pprof + "-tagfocus goid=42 -traces " + file + " 2>&1");
    CHECK(count(traces, "goid:  42") >= 1);
    CHECK(count(traces, "goid:  41") == 0);
    CHECK(count(traces, "request:  abc") == 1);
    CHECK(count(traces, "         1   consume(int)\n") == 1);
    CHECK(count(traces, "-----------+") == 2);

    std::string runnable = run(pprof + "-tagfocus goid=43 -traces " + file + " 2>&1");
    CHECK(count(runnable, "         1   produce(int)\n") == 1);
    CHECK(count(runnable, "consume") == 0);
  }
  SUBCASE("-tags counts every goroutine once per label") {
    std::string tags = run(pprof + "-tags " + file + " 2>&1");
    CHECK(count(tags, " goid: Total 4.0\n") == 1);
    CHECK(count(tags, " parent_goid: Total 4.0\n") == 1);
    CHECK(count(tags, " state: Total 4.0\n") == 1);
    CHECK(count(tags, " gopc: Total 4.0\n") == 1);
  }
  SUBCASE("-tagfocus parent_goid=0 keeps the goroutines spawned from outside any goroutine") {
    std::string traces = run(pprof + "-tagfocus parent_goid=0 -traces " + file + " 2>&1");
    CHECK(count(traces, "         1   main_task()\n") == 1);
    CHECK(count(traces, "-----------+") == 2);
  }
  SUBCASE("a goroutineleak profile: -raw names its type, -traces shows the leaked goroutine") {
    const fixture leaky = with_leak();
    const auto leak_file = (dir / "leak.pb.gz").string();
    std::ofstream(leak_file, std::ios::binary)
        << pprof_goroutineleak_profile(leaky.tables, leaky.s);
    std::string raw = run(pprof + "-raw " + leak_file + " 2>&1");
    CHECK(raw.find("PeriodType: goroutineleak count") != std::string::npos);
    CHECK(raw.find("goroutineleak/count") != std::string::npos);
    std::string traces = run(pprof + "-traces " + leak_file + " 2>&1");
    CHECK(count(traces, "-----------+") == 2);  // one goroutine
    CHECK(count(traces, "leak_rule:  closed-set") == 1);
    CHECK(count(traces, "goid:  41") == 1);
    CHECK(count(traces, "         1   consume(int)\n             worker(int)\n") == 1);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace gprofid
