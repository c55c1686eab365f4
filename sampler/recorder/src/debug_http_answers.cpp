#include "gprofid/recorder/debug_http_answers.hpp"

#include <algorithm>
#include <exception>
#include <sstream>
#include <unordered_set>

#include "gprofid/recorder/count_profile_text.hpp"
#include "gprofid/recorder/pprof_goroutine.hpp"
#include "gprofid/recorder/profile.hpp"
#include "gprofid/recording/recording_writer.hpp"
#include "gprofid/recording/wait_graph.hpp"
#include "gprofid/traceback.hpp"

namespace gprofid {
namespace {

constexpr std::string_view text_type = "text/plain; charset=utf-8";

constexpr std::string_view index_text =
    "gprof-id debug service (docs/fleet.md)\n"
    "/debug/pprof/goroutine           pprof goroutine profile (gzip), labels goid, parent_goid, "
    "state, wait_reason, wait_ns, gopc\n"
    "/debug/pprof/goroutine?debug=1   count of goroutines per stack, as text\n"
    "/debug/pprof/goroutine?debug=2   every goroutine's traceback, as text\n"
    "/debug/pprof/goroutineleak       pprof profile of the goroutines proven leaked, labels "
    "leak_rule, blocked_on (debug=1, debug=2: their texts)\n"
    "/debug/gprof-id/snapshot         one sample as a JSON Lines recording "
    "(docs/recording-format.md)\n";

http_answer text_answer(int status, std::string body) {
  return {.status = status, .content_type = std::string(text_type), .body = std::move(body)};
}

http_answer error_answer(int status, std::string_view why) {
  return text_answer(status, "gprof-id: " + std::string(why) + "\n");
}

// A profile.proto, which the transport gzips, named for a browser that saves it.
http_answer profile_answer(std::string_view name, std::string proto) {
  return {
      .status = 200,
      .content_type = "application/octet-stream",
      .headers = {{"X-Content-Type-Options", "nosniff"},
                  {"Content-Disposition", "attachment; filename=\"" + std::string(name) + "\""}},
      .body = std::move(proto),
      .gzip = true};
}

pprof_source live_source(const runtime& rt) {
  return pprof_source_of(own_header_for(rt, 0));
}

// The SIGQUIT dumper's text of `snap`'s goroutines, in id order as Go prints it.
std::string tracebacks(snapshot snap) {
  std::sort(snap.goroutines.begin(), snap.goroutines.end(),
            [](const goroutine_record& a, const goroutine_record& b) { return a.id < b.id; });
  return format_snapshot(snap);
}

std::string goroutine_text(runtime& rt, std::string_view debug) {
  if (debug == "1") {
    const profile p = goroutine_profile_with_id(rt);
    return format_count_profile(p.snapshot, p.tables);
  }
  return tracebacks(rt.take_snapshot());
}

// Go's debug=1 and debug=2 of the leak profile: the goroutine texts, of the goroutines the
// snapshot's wait-for graph proves leaked only (diagnose() sees the whole snapshot first).
std::string goroutineleak_text(runtime& rt, std::string_view debug) {
  snapshot snap = rt.take_snapshot();
  symbolizer sym;
  sample s = to_sample(snap, rt.started_ns(), sym);
  const wait_diagnosis diagnosis = diagnose(s);
  if (debug == "1") {
    std::erase_if(s.goroutines,
                  [&](const goroutine_sample& g) { return diagnosis.leak_of(g.id) == nullptr; });
    return format_count_profile(s, sym.tables(), "goroutineleak");
  }
  std::erase_if(snap.goroutines,
                [&](const goroutine_record& g) { return diagnosis.leak_of(g.id) == nullptr; });
  return tracebacks(std::move(snap));
}

std::string snapshot_recording(runtime& rt) {
  std::ostringstream out;
  recording_writer w(out, "HTTP answer");
  write_snapshot_recording(rt, w);
  return std::move(out).str();
}

}  // namespace

http_answer debug_http_answers::answer(const http_question& q) noexcept {
  try {
    return answer_or_throw(q);
  } catch (const std::exception& e) {
    try {
      return error_answer(500, e.what());
    } catch (...) {
    }
  } catch (...) {
  }
  return {.status = 500};  // out of memory even for the line
}

http_answer debug_http_answers::answer_or_throw(const http_question& q) {
  if (q.method != "GET" && q.method != "HEAD") {
    http_answer a = error_answer(
        405, std::string(q.method.substr(0, 20)) + " not allowed: the debug service only reads");
    a.headers.emplace_back("Allow", "GET, HEAD");
    return a;
  }
  if (q.path == "/debug/pprof/" || q.path == "/debug/pprof") {
    return text_answer(200, std::string(index_text));
  }
  const bool goroutine = q.path == "/debug/pprof/goroutine";
  const bool leak = q.path == "/debug/pprof/goroutineleak";
  const bool snap = q.path == "/debug/gprof-id/snapshot";
  if (!goroutine && !leak && !snap) {
    return error_answer(
        404, "404: no such endpoint (see /debug/pprof/) " + std::string(q.path.substr(0, 60)));
  }
  if (!limiter_.try_take()) {
    http_answer a = error_answer(429, snapshot_rate_error(limiter_.limit()));
    a.headers.emplace_back("Retry-After", "1");
    return a;
  }
  if (snap)
    return {.status = 200, .content_type = "application/x-ndjson", .body = snapshot_recording(rt_)};
  const std::string_view debug = q.debug.value_or("0");
  if (debug == "0") {
    const profile p = goroutine_profile_with_id(rt_);
    return goroutine ? profile_answer("goroutine", encode_pprof_goroutine_profile(
                                                       p.tables, p.snapshot, live_source(rt_)))
                     : profile_answer("goroutineleak", encode_pprof_goroutineleak_profile(
                                                           p.tables, p.snapshot, live_source(rt_)));
  }
  if (debug != "1" && debug != "2") {
    return error_answer(400, "debug=" + std::string(debug.substr(0, 20)) + ": want 0, 1 or 2");
  }
  http_answer a =
      text_answer(200, goroutine ? goroutine_text(rt_, debug) : goroutineleak_text(rt_, debug));
  a.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return a;
}

}  // namespace gprofid
