#include "gprofid/analysis/recording_reader.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <string_view>

#include "test_support.hpp"

namespace gprofid {
namespace {

namespace fs = std::filesystem;
const fs::path data_dir = fs::path(__FILE__).parent_path() / "data";

// The pieces of a minimal valid recording, one line each.
const std::string header =
    R"({"type":"header","format":"gprof-id-recording","version":1,"workload":"w","command":[],)"
    R"("pid":1,"interval_ns":1,"start":"1970-01-01T00:00:00.000000000Z","start_unix_ns":0,)"
    R"("start_monotonic_ns":0,"workers":1,"runtime":"gprof-id 0.1.0"})"
    "\n";
const std::string site =
    "{\"type\":\"site\",\"id\":0,\"function\":\"main()\",\"file\":\"m.cpp\",\"line\":3,"
    "\"pc\":\"0x10\"}\n";
const std::string frame =
    "{\"type\":\"frame\",\"id\":0,\"function\":\"f()\",\"file\":\"m.cpp\",\"line\":5,"
    "\"pc\":\"0x20\"}\n";
const std::string stack = R"({"type":"stack","id":0,"frames":[0]})"
                          "\n";
std::string goroutine(int id, const std::string& extra = "") {
  return R"({"id":)" + std::to_string(id) +
         R"(,"parent":0,"site":0,"state":"waiting","wait":"event","wait_ns":5,"created_ns":0,)"
         R"("stack":0,"resumes":1,"running_ns":0,"runnable_ns":0)" +
         extra + "}";
}
// goroutine(1, extra) with its first `from` replaced by `to`: one field made wrong.
std::string goroutine1_with(std::string_view from, std::string_view to,
                            const std::string& extra = "") {
  std::string g = goroutine(1, extra);
  return g.replace(g.find(from), from.size(), to);
}
std::string sample_line(int seq, const std::string& goroutines) {
  return R"({"type":"sample","seq":)" + std::to_string(seq) +
         R"(,"t_ns":10,"snapshot_ns":1,"pause_ns":0,"goroutines":[)" + goroutines + "]}\n";
}
const std::string end_line =
    R"({"type":"end","samples":1,"reason":"completed","exit_status":0,"signal":null})"
    "\n";
const std::string defs = header + site + frame + stack;  // lines 1-4

// Reads all of `text` as file "t.jsonl"; returns the error text, or "" (then `samples` and
// `warnings` tell what was read).
std::string read_error(const std::string& text, int* samples = nullptr,
                       std::vector<std::string>* warnings = nullptr) {
  std::istringstream in(text);
  try {
    recording_reader r(in, "t.jsonl");
    sample s;
    int n = 0;
    while (r.next(s)) ++n;
    if (samples) *samples = n;
    if (warnings) *warnings = r.warnings();
    return "";
  } catch (const recording_error& e) {
    return e.what();
  }
}

TEST_CASE("recording_reader reads the fixture recording") {
  recording_reader r((data_dir / "small.jsonl").string());
  CHECK(r.header().workload == "pipeline");
  CHECK(r.header().command_line == std::vector<std::string>{"pipeline", "--stages", "2"});
  CHECK(r.header().interval_ns == 100'000'000);
  CHECK(r.header().workers == 2);
  CHECK(r.header().start_wall == "2024-05-01T12:00:00.000000000Z");
  sample s;
  REQUIRE(r.next(s));
  CHECK(s.seq == 0);
  REQUIRE(s.goroutines.size() == 3);
  CHECK(s.goroutines[1].reason == wait_reason::chan_receive);
  CHECK(s.goroutines[2].state == goroutine_state::runnable);
  CHECK(*find_label(*s.goroutines[2].labels, "stage") == "1");
  CHECK(r.tables().sites[1].pc == 0x55d0c3a01f2e);
  REQUIRE(r.next(s));
  CHECK(s.seq == 1);
  CHECK(find_goroutine(s, 2) == nullptr);
  CHECK(find_goroutine(s, 3)->reason == wait_reason::chan_send);
  CHECK(r.tables().frames[r.tables().stacks[find_goroutine(s, 3)->stack][0]].line == 21);
  CHECK_FALSE(r.next(s));
  REQUIRE(r.end());
  CHECK(r.end()->samples == 2);
  CHECK(r.end()->exit_status == 0);
  CHECK_FALSE(r.end()->signal);
  CHECK(r.warnings().empty());
  CHECK_FALSE(r.next(s));  // stays at the end

  auto all = read_recording((data_dir / "small.jsonl").string());
  CHECK(all.samples.size() == 2);
  CHECK(all.tables.stacks.size() == 3);
}

TEST_CASE("recording_reader: each malformed input has its message and line number") {
  const std::string g1 = goroutine(1);
  struct bad_case {
    std::string what;
    std::string text;
    std::string error;
  };
  const bad_case cases[] = {
      {"empty file", "", "t.jsonl:1: empty recording: expected a header line"},
      {"blank lines only", "\n\n", "t.jsonl:2: empty recording: expected a header line"},
      {"not a header first", sample_line(0, ""),
       "t.jsonl:1: expected a header line first, got a \"sample\" line"},
      {"newer version",
       R"({"type":"header","format":"gprof-id-recording","version":2})"
       "\n",
       "t.jsonl:1: recording format version 2 is newer than this gprof-id supports (1); use a "
       "newer gprof-id"},
      {"another format",
       R"({"type":"header","format":"pprof","version":1})"
       "\n",
       "t.jsonl:1: not a gprof-id recording: format is \"pprof\", expected "
       "\"gprof-id-recording\""},
      {"header missing a field",
       R"({"type":"header","format":"gprof-id-recording","version":1})"
       "\n",
       "t.jsonl:1: header: missing required field \"workload\""},
      {"malformed JSON", defs + "{\"type\":\"sample\",\n",
       "t.jsonl:5: malformed JSON at column 18: syntax error while parsing object key - "
       "unexpected end of input; expected string literal"},
      {"not an object", defs + "[1,2]\n", "t.jsonl:5: expected a JSON object, got array"},
      {"no type", defs + "{\"seq\":1}\n", "t.jsonl:5: missing required field \"type\""},
      {"unknown line type", header + "{\"type\":\"bogus\"}\n",
       "t.jsonl:2: unknown line type \"bogus\""},
      {"missing sample field",
       defs + R"({"type":"sample","seq":0,"snapshot_ns":1,"pause_ns":0,"goroutines":[]})"
              "\n",
       "t.jsonl:5: sample 0: missing required field \"t_ns\""},
      {"missing goroutine field", defs + sample_line(0, R"({"id":7,"parent":0})"),
       "t.jsonl:5: sample 0, goroutine 7: missing required field \"site\""},
      {"wrong type in a site",
       header + R"({"type":"site","id":0,"function":"f","file":"a","line":"3","pc":"0x1"})"
                "\n",
       "t.jsonl:2: site 0: field \"line\" must be a non-negative integer, got string"},
      {"negative id", defs + sample_line(0, goroutine(-1)),
       "t.jsonl:5: sample 0, a goroutine: field \"id\" must be a non-negative integer, got a "
       "negative integer"},
      {"fractional time",
       defs + sample_line(0, goroutine1_with("\"wait_ns\":5", "\"wait_ns\":5.5", ",\"x\":0")),
       "t.jsonl:5: sample 0, goroutine 1: field \"wait_ns\" must be an integer, got a fraction"},
      {"bad pc",
       header + R"({"type":"frame","id":0,"function":"f","file":"a","line":3,"pc":"12"})"
                "\n",
       "t.jsonl:2: frame 0: field \"pc\" must be a hex string like \"0x4a1f20\", got \"12\""},
      {"site id out of order",
       header + R"({"type":"site","id":1,"function":"f","file":"a","line":3,"pc":"0x1"})"
                "\n",
       "t.jsonl:2: site id 1 out of order: expected 0"},
      {"undefined site", defs + sample_line(0, goroutine1_with("\"site\":0", "\"site\":5")),
       "t.jsonl:5: sample 0, goroutine 1: refers to undefined site 5"},
      {"undefined stack", defs + sample_line(0, goroutine1_with("\"stack\":0", "\"stack\":1")),
       "t.jsonl:5: sample 0, goroutine 1: refers to undefined stack 1"},
      {"undefined frame",
       header + site + frame + "{\"type\":\"stack\",\"id\":0,\"frames\":[0,3]}\n",
       "t.jsonl:4: stack 0: refers to undefined frame 3"},
      {"a mutex locked at an undefined frame",
       defs + R"({"type":"sample","seq":0,"t_ns":10,"snapshot_ns":1,"pause_ns":0,"goroutines":[],)"
              R"("objects":[{"id":"0x40","kind":"mutex","locked":true,"owner":1,"queue":[],)"
              R"("locked_at":1}]})"
              "\n",
       "t.jsonl:5: sample 0, object 0x40: refers to undefined frame 1"},
      {"a timer in objects (readers before timers would reject it)",
       defs + R"({"type":"sample","seq":0,"t_ns":10,"snapshot_ns":1,"pause_ns":0,"goroutines":[],)"
              R"("objects":[{"id":"0x40","kind":"timer","when_ns":5}]})"
              "\n",
       "t.jsonl:5: sample 0, object 0x40: an object of kind \"timer\" belongs in more_objects"},
      {"a channel in more_objects",
       defs + R"({"type":"sample","seq":0,"t_ns":10,"snapshot_ns":1,"pause_ns":0,"goroutines":[],)"
              R"("more_objects":[{"id":"0x40","kind":"channel"}]})"
              "\n",
       "t.jsonl:5: sample 0, object 0x40: an object of kind \"channel\" belongs in objects"},
      {"an fd direction neither read nor write",
       defs + R"({"type":"sample","seq":0,"t_ns":10,"snapshot_ns":1,"pause_ns":0,"goroutines":[],)"
              R"("more_objects":[{"id":"0x40","kind":"fd","fd":3,"direction":"up"}]})"
              "\n",
       "t.jsonl:5: sample 0, object 0x40: field \"direction\" must be \"read\" or \"write\", "
       "got \"up\""},
      {"an object in both objects and more_objects",
       defs + R"({"type":"sample","seq":0,"t_ns":10,"snapshot_ns":1,"pause_ns":0,"goroutines":[],)"
              R"("objects":[{"id":"0x40","kind":"event"}],)"
              R"("more_objects":[{"id":"0x40","kind":"fd","fd":3,"direction":"read"}]})"
              "\n",
       "t.jsonl:5: sample 0: duplicate object id"},
      {"duplicate goroutine ids",
       defs + sample_line(0, goroutine(2) + "," + goroutine(1) + "," + goroutine(2)),
       "t.jsonl:5: sample 0: duplicate goroutine id 2"},
      {"unknown state", defs + sample_line(0, goroutine1_with("waiting", "asleep")),
       "t.jsonl:5: sample 0, goroutine 1: unknown state \"asleep\""},
      {"unknown wait reason", defs + sample_line(0, goroutine1_with("event", "nap")),
       "t.jsonl:5: sample 0, goroutine 1: unknown wait reason \"nap\""},
      {"label not a string", defs + sample_line(0, goroutine(1, ",\"labels\":{\"k\":1}")),
       "t.jsonl:5: sample 0, goroutine 1: label \"k\" must be a string, got an integer"},
      {"second header", defs + header, "t.jsonl:5: a second header line"},
      {"line after end", defs + sample_line(0, g1) + end_line + sample_line(1, g1),
       "t.jsonl:7: line after the end line"},
      {"unknown end reason",
       defs + R"({"type":"end","samples":1,"reason":"bored"})"
              "\n",
       "t.jsonl:5: end line: unknown reason \"bored\""},
      {"invalid UTF-8", header + "{\"type\":\"site\",\"id\":0,\"function\":\"f\xFF\"}\n",
       "t.jsonl:2: invalid UTF-8 at column 36 (recordings are UTF-8 text)"},
      // nlohmann stops at a NUL outside a string as at the end of its input.
      {"a NUL between tokens", header + std::string("{\"type\":\"site\",\0\"id\":0}\n", 24),
       "t.jsonl:2: NUL byte at column 16 (recordings are UTF-8 text)"},
      {"a NUL for a line", header + std::string("\0\0\0\n", 4),
       "t.jsonl:2: NUL byte at column 1 (recordings are UTF-8 text)"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    CHECK(read_error(c.text) == c.error);
  }
}

TEST_CASE("recording_reader: timers and fds come from more_objects; a later kind is skipped") {
  const std::string text =
      defs +
      R"({"type":"sample","seq":0,"t_ns":10,"snapshot_ns":1,"pause_ns":0,"goroutines":[],)"
      R"("objects":[{"id":"0x10","kind":"channel","capacity":1,"count":0,"closed":false,)"
      R"("senders":0,"receivers":1,"handles":2,"held_by":[1],"timer":"0x18"}],)"
      R"("more_objects":[{"id":"0x18","kind":"timer","when_ns":-3,"period_ns":7},)"
      R"({"id":"0x20","kind":"fd","fd":9,"direction":"write"},)"
      R"({"id":"0x30","kind":"hologram","depth":3}]})"
      "\n" +
      end_line;
  std::istringstream in(text);
  recording_reader r(in, "t.jsonl");
  sample s;
  REQUIRE(r.next(s));
  REQUIRE(s.objects.size() == 3);  // sorted by id, the unknown kind left out
  CHECK(s.objects[0].kind == wait_object_kind::channel);
  CHECK(s.objects[0].timer == 0x18);
  CHECK(s.objects[1].kind == wait_object_kind::timer);
  CHECK(s.objects[1].when_ns == -3);
  CHECK(s.objects[1].period_ns == 7);
  CHECK(s.objects[2].kind == wait_object_kind::fd);
  CHECK(s.objects[2].fd == 9);
  CHECK(s.objects[2].write);
}

TEST_CASE("recording_reader: sample lines read in place equal what the JSON DOM reads") {
  // Every object kind and field, labels (out of order, then again from the cache, then
  // changed), blocked_on, fields out of the writer's order, unknown fields, whitespace: what
  // the fast path reads; escapes, duplicate keys and bad values: what it leaves to the DOM.
  const std::string all_kinds =
      R"("objects":[{"id":"0x10","kind":"channel","capacity":1,"count":0,"closed":true,)"
      R"("senders":0,"receivers":1,"handles":2,"held_by":[1,2],"timer":"0x18"},)"
      R"({"id":"0x40","kind":"mutex","locked":true,"owner":2,"queue":[1],"locked_at":0},)"
      R"({"id":"0x30","kind":"wait_group","counter":-2,"waiters":1},)"
      R"({"id":"0x50","kind":"event","set":false},)"
      R"({"id":"0x60","kind":"select","cases":["0x10","0x70"],"send_cases":["0x70","0x10"],)"
      R"("nil_cases":1}],)"
      R"("more_objects":[{"id":"0x18","kind":"timer","when_ns":-3,"period_ns":7},)"
      R"({"id":"0x20","kind":"fd","fd":9,"direction":"write"},)"
      R"({"id":"0x35","kind":"hologram","depth":3}])";
  const std::string labels_ba = R"(,"labels":{"b":"2","a":"1"},"blocked_on":"0x10")";
  auto line = [](int seq, const std::string& goroutines, const std::string& graph) {
    return R"({"type":"sample","seq":)" + std::to_string(seq) +
           R"(,"t_ns":10,"snapshot_ns":1,"pause_ns":0,"goroutines":[)" + goroutines + "]" +
           (graph.empty() ? "" : "," + graph) + "}\n";
  };
  const std::string two = goroutine(1, labels_ba) + "," + goroutine(2, R"(,"blocked_on":"0x40")");
  const std::vector<std::string> lines = {
      line(0, two, all_kinds),
      line(1, two, all_kinds),  // the same labels again: from the cache
      line(2, goroutine(1, R"(,"labels":{"a":"1","b":"3"})") + "," + goroutine(2), ""),
      line(3,
           R"({ "runnable_ns" : 4 , "id" : 1, "parent":0,"site":0,"state":"running",)"
           R"("wait_ns":0,"created_ns":0,"stack":0,"resumes":1,"running_ns":0,"extra":[{}]})",
           R"("objects":[{"kind":"event","id":"0xABC","set":true,"note":"x"}])"),
      line(4, goroutine(1, R"(,"labels":{"k":"\u00e9"})"), ""),
      line(5, goroutine(1, R"(,"resumes":7)"), ""),
      line(6, goroutine(1, R"(,"blocked_on":"0x1ffffffffffffffff")"), ""),
      line(7, goroutine(1),
           R"("objects":[{"id":"0x1","kind":"event"},{"id":"0x1","kind":"event"}])"),
      line(8, goroutine(1), R"("objects":[{"id":"0x1","kind":"mutex","locked_at":5}])"),
      line(9, goroutine(1), R"("objects":[{"id":"0x1","kind":"timer"}])"),
  };
  for (std::size_t i = 0; i < lines.size(); ++i) {
    CAPTURE(lines[i]);
    const std::string text = defs + lines[i] + end_line;
    const auto fast = testing::read_all(text, "t.jsonl"),
               dom = testing::read_all(text, "t.jsonl", true);
    CHECK(fast.error == dom.error);
    CHECK(fast.warnings == dom.warnings);
    CHECK(fast.samples == dom.samples);
  }
  // All the valid ones in one recording: the cache and the reused objects across samples.
  std::string text = defs;
  for (std::size_t i = 0; i < 6; ++i) text += lines[i];
  const auto fast = testing::read_all(text, "t.jsonl"),
             dom = testing::read_all(text, "t.jsonl", true);
  CHECK(dom.error.empty());
  REQUIRE(dom.samples.size() == 6);
  CHECK(fast.samples == dom.samples);
  REQUIRE(dom.samples[0].objects.size() == 7);  // the unknown kind left out
  CHECK(dom.samples[0].objects[6].send_cases == std::vector<std::uint64_t>{0x10, 0x70});
  // Sample 1 repeats sample 0's labels text: the fast path shares the set it read then.
  CHECK(fast.samples[1].goroutines[0].labels == fast.samples[0].goroutines[0].labels);
  CHECK(fast.samples[2].goroutines[0].labels != fast.samples[1].goroutines[0].labels);
}

TEST_CASE("recording_reader: a file cut mid-line is read up to its last complete line") {
  const std::string full =
      defs + sample_line(0, goroutine(1)) + sample_line(1, goroutine(1)) +
      R"({"type":"end","samples":2,"reason":"completed","exit_status":0,"signal":null})"
      "\n";
  // Cut inside the second sample line (line 6).
  const auto cut_at = full.find("\"seq\":1") + 3;
  int samples = -1;
  std::vector<std::string> warnings;
  CHECK(read_error(full.substr(0, cut_at), &samples, &warnings) == "");
  CHECK(samples == 1);
  REQUIRE(warnings.size() == 2);
  CHECK(warnings[0] == "t.jsonl:6: incomplete last line ignored (the recording was cut short)");
  CHECK(warnings[1] == "t.jsonl:6: no end line (the recording was cut short)");

  // Cut right after a newline: no partial line, only the missing end.
  const auto after_sample = full.find("{\"type\":\"sample\",\"seq\":1");
  CHECK(read_error(full.substr(0, after_sample), &samples, &warnings) == "");
  CHECK(samples == 1);
  CHECK(warnings == std::vector<std::string>{"t.jsonl:5: no end line (the recording was cut "
                                             "short)"});

  // A complete last line without its newline is fine.
  CHECK(read_error(full.substr(0, full.size() - 1), &samples, &warnings) == "");
  CHECK(samples == 2);
  CHECK(warnings.empty());

  // A cut header is an error: nothing can be read.
  CHECK(read_error(header.substr(0, 20)).rfind("t.jsonl:1: malformed JSON", 0) == 0);
}

TEST_CASE("recording_reader: unknown fields are ignored, missing exit status is null") {
  int samples = 0;
  std::vector<std::string> warnings;
  CHECK(read_error(defs + sample_line(0, goroutine(1, ",\"future\":[1]")) +
                       R"({"type":"end","samples":1,"reason":"interrupted","extra":1})"
                       "\n",
                   &samples, &warnings) == "");
  CHECK(samples == 1);
  CHECK(warnings.empty());
}

TEST_CASE("recording_reader: a repeated or decreasing seq and a wrong end count are warnings") {
  int samples = 0;
  std::vector<std::string> warnings;
  const std::string text = defs + sample_line(0, goroutine(1)) + sample_line(0, goroutine(1)) +
                           sample_line(5, goroutine(1)) + sample_line(2, goroutine(1)) +
                           R"({"type":"end","samples":57,"reason":"completed"})"
                           "\n";
  CHECK(read_error(text, &samples, &warnings) == "");
  CHECK(samples == 4);
  CHECK(warnings == std::vector<std::string>{
                        "t.jsonl:6: sample seq 0 repeats (line 5)",
                        "t.jsonl:8: sample seq 2 goes back from 5 (line 7)",
                        "t.jsonl:9: the end line says 57 samples, the file has 4 (samples were "
                        "lost or added)"});
}

TEST_CASE("recording_reader: compressed files and numbers out of range say what they are") {
  CHECK(read_error(std::string("\x1f\x8b\x08\x00\x00\n")) ==
        "t.jsonl: a gzip-compressed file, not a recording: decompress it first (e.g. gunzip -k "
        "FILE)");
  CHECK(read_error(std::string("\x28\xb5\x2f\xfd\x00")).find("zstd-compressed") !=
        std::string::npos);
  const std::string huge =
      defs + R"({"type":"sample","seq":0,"t_ns":1e40,"snapshot_ns":1,"pause_ns":0,"goroutines":[]})"
             "\n";
  CHECK(read_error(huge) ==
        "t.jsonl:5: sample 0: field \"t_ns\" must be an integer, got a number out of range");
  const std::string fraction =
      defs + R"({"type":"sample","seq":0,"t_ns":1.5,"snapshot_ns":1,"pause_ns":0,"goroutines":[]})"
             "\n";
  CHECK(read_error(fraction) ==
        "t.jsonl:5: sample 0: field \"t_ns\" must be an integer, got a fraction");
}

TEST_CASE("recording_reader: a directory is not an empty recording") {
  try {
    recording_reader r("/");
    FAIL("no exception");
  } catch (const recording_error& e) {
    CHECK(std::string(e.what()) == "/: is a directory");
  }
}

TEST_CASE("recording_reader: unreadable file") {
  try {
    recording_reader r("/nonexistent/rec.jsonl");
    FAIL("no exception");
  } catch (const recording_error& e) {
    CHECK(std::string(e.what()) ==
          "/nonexistent/rec.jsonl: cannot open: No such file or directory");
    CHECK(e.line() == 0);
  }
}

}  // namespace
}  // namespace gprofid
