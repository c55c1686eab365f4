#include "gprofid/recording/recording_writer.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <system_error>
#include <vector>

#include "gprofid/analysis/recording_reader.hpp"
#include "gprofid/clock.hpp"
#include "gprofid/recorder/profile.hpp"
#include "tests/sampler/test_support.hpp"

namespace gprofid {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

const fs::path repo_root = GPROFID_SOURCE_DIR;

using testing::gate;

task<void> wait_at(gate& g) {
  co_await g.wait();
}

// A real recording of a known program (one worker): goroutines 2-5 wait at gate `a` all along,
// 6-7 wait at gate `b` until after sample 0, 8 starts after sample 0. Main labels itself
// tenant=t-1 after spawning 2 and 3, so 1 and 4-8 carry the label.
// Samples: 0 = {1 running, 2-7 waiting}; 1 and 2 = {1 running, 2-5 and 8 waiting}.
struct known_recording {
  recording_header header;
  symbolizer sym;
  std::vector<sample> samples;
  std::string text;
};

known_recording record_known_program() {
  known_recording k;
  std::ostringstream out;
  recording_writer w(out, "memory");
  runtime rt({.workers = 1});
  k.header = header_for(rt, 1'000'000);
  k.header.workload = "known";
  k.header.command_line = {"prog", "--flag", "caf\xC3\xA9"};
  w.write_header(k.header);
  gate a, b;
  rt.run([](runtime& rt, gate& a, gate& b, known_recording& k, recording_writer& w) -> task<void> {
    go(wait_at(a));
    go(wait_at(a));
    this_goroutine::set_label("tenant", "t-1");
    go(wait_at(a));
    go(wait_at(a));
    go(wait_at(b));
    go(wait_at(b));
    co_await yield();
    for (int i = 0; i < 3; ++i) {
      sample s = goroutine_profile_with_id(rt, k.sym);
      s.seq = static_cast<std::uint64_t>(i);
      w.write_sample(s, k.sym.tables(), k.sym.take_new());
      k.samples.push_back(std::move(s));
      if (i == 0) {
        b.release();
        go(wait_at(a));
        co_await yield();
      }
    }
    a.release();
  }(rt, a, b, k, w));
  w.write_end({3, end_reason::completed, 0, std::nullopt});
  k.text = out.str();
  return k;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

TEST_CASE("recording_writer -> recording_reader round trip") {
  auto k = record_known_program();
  std::istringstream in(k.text);
  recording_reader r(in, "memory");
  CHECK(r.header() == k.header);
  sample s;
  for (const auto& expected : k.samples) {
    REQUIRE(r.next(s));
    CHECK(s.seq == expected.seq);
    CHECK(s.time_ns == expected.time_ns);
    CHECK(s.duration_ns == expected.duration_ns);
    CHECK(s.pause_ns == expected.pause_ns);
    REQUIRE(s.goroutines.size() == expected.goroutines.size());
    for (std::size_t i = 0; i < s.goroutines.size(); ++i) {
      const auto& g = s.goroutines[i];
      const auto& e = expected.goroutines[i];
      CAPTURE(e.id);
      CHECK(g.id == e.id);
      CHECK(g.parent_id == e.parent_id);
      CHECK(g.site == e.site);
      CHECK(g.stack == e.stack);
      CHECK(g.state == e.state);
      CHECK(g.reason == e.reason);
      CHECK(g.created_ns == e.created_ns);
      CHECK(g.wait_ns == e.wait_ns);
      CHECK(g.resumes == e.resumes);
      CHECK(g.running_ns == e.running_ns);
      CHECK(g.runnable_ns == e.runnable_ns);
      CHECK(static_cast<bool>(g.labels) == static_cast<bool>(e.labels));
      if (g.labels && e.labels) CHECK(*g.labels == *e.labels);
    }
  }
  CHECK_FALSE(r.next(s));
  CHECK(r.tables().sites == k.sym.tables().sites);
  CHECK(r.tables().frames == k.sym.tables().frames);
  CHECK(r.tables().stacks == k.sym.tables().stacks);
  REQUIRE(r.end());
  CHECK(*r.end() == recording_end{3, end_reason::completed, 0, std::nullopt});
  CHECK(r.warnings().empty());
}

TEST_CASE("recording_writer: definitions come before first use, each once") {
  auto k = record_known_program();
  std::set<std::pair<std::string, std::uint64_t>> defined;
  for (const auto& line : lines_of(k.text)) {
    json v = json::parse(line);
    std::string type = v["type"];
    if (type == "site" || type == "frame" || type == "stack") {
      CHECK(defined.insert({type, v["id"].get<std::uint64_t>()}).second);
      if (type == "stack") {
        for (auto f : v["frames"]) CHECK(defined.count({"frame", f.get<std::uint64_t>()}));
      }
    }
    if (type == "sample") {
      for (const auto& g : v["goroutines"]) {
        CHECK(defined.count({"site", g["site"].get<std::uint64_t>()}));
        CHECK(defined.count({"stack", g["stack"].get<std::uint64_t>()}));
      }
    }
  }
}

// A small JSON Schema checker: the keywords docs/recording.schema.json uses, nothing more.
class schema_checker {
 public:
  explicit schema_checker(json root) : root_(std::move(root)) {}
  std::vector<std::string> check(const json& v) { return check(v, root_, "$"); }

 private:
  const json& resolve(const json& s) {
    if (!s.contains("$ref")) return s;
    std::string ref = s["$ref"];
    REQUIRE(ref.rfind("#/$defs/", 0) == 0);
    return root_["$defs"][ref.substr(8)];
  }
  static bool has_type(const json& v, const std::string& t) {
    if (t == "integer") return v.is_number_integer();
    if (t == "number") return v.is_number();
    if (t == "string") return v.is_string();
    if (t == "object") return v.is_object();
    if (t == "array") return v.is_array();
    if (t == "boolean") return v.is_boolean();
    if (t == "null") return v.is_null();
    return false;
  }
  std::vector<std::string> check(const json& v, const json& schema, const std::string& at) {
    const json& s = resolve(schema);
    std::vector<std::string> errs;
    auto fail = [&](const std::string& m) { errs.push_back(at + ": " + m); };
    if (s.contains("type")) {
      bool ok = false;
      if (s["type"].is_array()) {
        for (const auto& t : s["type"]) ok = ok || has_type(v, t);
      } else {
        ok = has_type(v, s["type"]);
      }
      if (!ok) fail("wrong type, want " + s["type"].dump());
    }
    if (s.contains("const") && v != s["const"]) fail("want " + s["const"].dump());
    if (s.contains("enum") && std::find(s["enum"].begin(), s["enum"].end(), v) == s["enum"].end()) {
      fail("not in " + s["enum"].dump());
    }
    if (s.contains("minimum") && v.is_number() && v < s["minimum"]) fail("below minimum");
    if (s.contains("pattern") && v.is_string() &&
        !std::regex_search(v.get<std::string>(), std::regex(s["pattern"].get<std::string>()))) {
      fail("does not match " + s["pattern"].get<std::string>());
    }
    if (v.is_object()) {
      for (const auto& r : s.value("required", json::array())) {
        if (!v.contains(r)) fail("missing " + r.dump());
      }
      const json props = s.value("properties", json::object());
      for (const auto& [k, val] : v.items()) {
        if (props.contains(k)) {
          auto sub = check(val, props[k], at + "." + k);
          errs.insert(errs.end(), sub.begin(), sub.end());
        } else if (s.contains("additionalProperties")) {
          const json& ap = s["additionalProperties"];
          if (ap == false) {
            fail("unexpected field " + k);
          } else if (ap.is_object()) {
            auto sub = check(val, ap, at + "." + k);
            errs.insert(errs.end(), sub.begin(), sub.end());
          }
        }
      }
    }
    if (v.is_array() && s.contains("items")) {
      for (std::size_t i = 0; i < v.size(); ++i) {
        auto sub = check(v[i], s["items"], at + "[" + std::to_string(i) + "]");
        errs.insert(errs.end(), sub.begin(), sub.end());
      }
    }
    for (const auto& sub_schema : s.value("allOf", json::array())) {
      auto sub = check(v, sub_schema, at);
      errs.insert(errs.end(), sub.begin(), sub.end());
    }
    if (s.contains("oneOf")) {
      int matches = 0;
      for (const auto& sub_schema : s["oneOf"]) matches += check(v, sub_schema, at).empty();
      if (matches != 1) fail("matches " + std::to_string(matches) + " of oneOf, want 1");
    }
    return errs;
  }
  json root_;
};

TEST_CASE("recording_writer: every line it writes satisfies docs/recording.schema.json") {
  std::ifstream schema_file(repo_root / "docs/recording.schema.json");
  REQUIRE(schema_file);
  schema_checker checker(json::parse(schema_file));
  auto k = record_known_program();
  auto lines = lines_of(k.text);
  REQUIRE(lines.size() > 5);
  for (const auto& line : lines) {
    CAPTURE(line);
    auto errs = checker.check(json::parse(line));
    CHECK(errs.empty());
    for (const auto& e : errs) MESSAGE(e);
  }
  // And the checker does reject what the schema forbids.
  CHECK_FALSE(checker.check(json::parse(R"({"type":"stack","id":-1,"frames":[]})")).empty());
  CHECK_FALSE(checker
                  .check(json::parse(R"({"type":"end","samples":1,"reason":"x",)"
                                     R"("exit_status":null,"signal":null})"))
                  .empty());
  CHECK_FALSE(checker
                  .check(json::parse(R"({"type":"sample","seq":0,"t_ns":0,"snapshot_ns":0,)"
                                     R"("pause_ns":0,"goroutines":[{"id":1}]})"))
                  .empty());
}

TEST_CASE("recording_writer: invalid UTF-8 in names and labels becomes U+FFFD") {
  symbol_tables t;
  t.sites.push_back({"bad\xFF\xFEname", "f\xC3.cpp", 3, 0x10});
  t.stacks.push_back({});
  sample s;
  goroutine_sample g{.id = 1};
  g.labels = std::make_shared<const label_set>(label_set{{"k\xE2\x82", "v\x80\"\n"}});
  s.goroutines.push_back(g);
  std::ostringstream out;
  recording_writer w(out);
  recording_header h;
  h.workload = "w\xFF";
  h.start_wall = format_rfc3339_utc(0);
  w.write_header(h);
  w.write_sample(s, t);
  w.write_end({1, end_reason::completed, std::nullopt, std::nullopt});
  std::istringstream in(out.str());
  recording_reader r(in, "memory");
  CHECK(r.header().workload == "w\xEF\xBF\xBD");
  sample back;
  REQUIRE(r.next(back));
  CHECK(r.tables().sites[0].function == "bad\xEF\xBF\xBD\xEF\xBF\xBDname");
  REQUIRE(back.goroutines[0].labels);
  // \xE2\x82 is one sequence cut short: one U+FFFD (the maximal subpart, as nlohmann writes it).
  CHECK(*back.goroutines[0].labels == label_set{{"k\xEF\xBF\xBD", "v\xEF\xBF\xBD\"\n"}});
  CHECK(r.tables().sites[0].pc == 0x10);
}

TEST_CASE("recording_writer: ENOSPC and EPIPE are exceptions with errno text") {
  SUBCASE("/dev/full via fd") {
    int fd = ::open("/dev/full", O_WRONLY);
    REQUIRE(fd >= 0);
    recording_writer w(fd, "/dev/full");
    try {
      w.write_header({});
      FAIL("no exception");
    } catch (const std::system_error& e) {
      CHECK(e.code().value() == ENOSPC);
      CHECK(std::string(e.what()) == "writing /dev/full: No space left on device");
    }
    ::close(fd);
  }
  SUBCASE("/dev/full via FILE*") {
    std::FILE* f = std::fopen("/dev/full", "w");
    REQUIRE(f);
    recording_writer w(f, "/dev/full");
    CHECK_THROWS_WITH_AS(w.write_header({}), "writing /dev/full: No space left on device",
                         std::system_error);
    std::fclose(f);
  }
  SUBCASE("a pipe whose reader has gone") {
    int p[2];
    REQUIRE(::pipe(p) == 0);
    ::close(p[0]);
    recording_writer w(p[1], "pipe");
    // Without the writer's SIGPIPE handling this would kill the test binary.
    CHECK_THROWS_WITH_AS(w.write_header({}), "writing pipe: Broken pipe", std::system_error);
    CHECK_THROWS_AS(w.write_end({}), std::system_error);
    ::close(p[1]);
  }
  SUBCASE("create() in a missing directory") {
    CHECK_THROWS_WITH_AS(recording_writer::create("/nonexistent-dir/x.jsonl"),
                         "creating /nonexistent-dir/x.jsonl: No such file or directory",
                         std::system_error);
  }
}

TEST_CASE("format_rfc3339_utc") {
  CHECK(format_rfc3339_utc(0) == "1970-01-01T00:00:00.000000000Z");
  CHECK(format_rfc3339_utc(1'700'000'000'123'456'789) == "2023-11-14T22:13:20.123456789Z");
}

// Runs a shell command and returns its standard output.
std::string run(const std::string& cmd) {
  std::string out;
  std::FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p);
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  CHECK(::pclose(p) == 0);
  return out;
}

TEST_CASE("the jq examples of docs/recording-format.md work on a real recording") {
  REQUIRE_MESSAGE(fs::exists("/usr/bin/jq"), "jq is needed: apt-get install jq");
  auto k = record_known_program();
  const fs::path file = fs::temp_directory_path() / ("gprofid-jq-" + std::to_string(::getpid()));
  { std::ofstream(file) << k.text; }
  const std::string f = " " + file.string();

  // Goroutines per state per sample.
  CHECK(run("jq -c 'select(.type==\"sample\") | {seq, states: (.goroutines | group_by(.state) | "
            "map({(.[0].state): length}) | add)}'" +
            f) ==
        "{\"seq\":0,\"states\":{\"running\":1,\"waiting\":6}}\n"
        "{\"seq\":1,\"states\":{\"running\":1,\"waiting\":5}}\n"
        "{\"seq\":2,\"states\":{\"running\":1,\"waiting\":5}}\n");
  // Ids alive in every sample.
  CHECK(run("jq -sc '[.[] | select(.type==\"sample\") | [.goroutines[].id]] | length as $n | "
            "[.[][]] | group_by(.) | map(select(length == $n) | .[0])'" +
            f) == "[1,2,3,4,5]\n");
  // Goroutines that came or went between consecutive samples.
  CHECK(
      run("jq -sc '[.[] | select(.type==\"sample\") | [.goroutines[].id]] | "
          "[range(1; length) as $i | {seq: $i, started: (.[$i] - .[$i-1]), "
          "exited: (.[$i-1] - .[$i])}]'" +
          f) ==
      "[{\"seq\":1,\"started\":[8],\"exited\":[6,7]},{\"seq\":2,\"started\":[],\"exited\":[]}]\n");
  // One goroutine over time.
  CHECK(run("jq -c --argjson id 6 'select(.type==\"sample\") | {seq, g: (.goroutines[] | "
            "select(.id==$id) | {state, wait})}'" +
            f) == "{\"seq\":0,\"g\":{\"state\":\"waiting\",\"wait\":\"event\"}}\n");
  // Where each goroutine of the last sample is, innermost frame joined through the tables.
  std::string where =
      run("jq -sc 'INDEX(.[] | select(.type==\"frame\"); .id) as $f | "
          "INDEX(.[] | select(.type==\"stack\"); .id) as $s | [.[] | select(.type==\"sample\")] | "
          "last | .goroutines | map(select(.state==\"waiting\")) | "
          "group_by(.stack) | map({at: ($f[$s[.[0].stack|tostring].frames[0]|tostring] | "
          "\"\\(.function) \\(.file|split(\"/\")|last):\\(.line)\"), count: length})'" +
          f);
  CHECK(where.find("\"count\":5") != std::string::npos);
  CHECK(where.find("wait_at(gprofid::testing::gate&) recording_writer_test.cpp:") !=
        std::string::npos);
  // Goroutines by label value.
  CHECK(run("jq -c 'select(.type==\"sample\" and .seq==0) | [.goroutines[] | "
            "select(.labels.tenant==\"t-1\") | .id]'" +
            f) == "[1,4,5,6,7]\n");
  fs::remove(file);
}

}  // namespace
}  // namespace gprofid
