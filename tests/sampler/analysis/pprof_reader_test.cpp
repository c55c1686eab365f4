// Reading back the goroutine profiles gprof-id writes (export --format pprof, the HTTP service):
// every field a profile carries comes back, and what is not one of ours is one clear error.
#include "gprofid/analysis/pprof_reader.hpp"

#include <doctest/doctest.h>
#include <zlib.h>

#include <string>

#include "gprofid/analysis/diff.hpp"
#include "gprofid/analysis/export_pprof.hpp"
#include "gprofid/analysis/recording_reader.hpp"
#include "profile.pb.h"

namespace gprofid {
namespace {

namespace pb = perftools::profiles;

std::string gzip(const std::string& data) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) ==
          Z_OK);
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string error_of(std::string_view bytes) {
  try {
    parse_pprof_goroutines(bytes, "p.pb.gz");
  } catch (const recording_error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST_CASE("a profile gprof-id wrote reads back as the sample it was written from") {
  symbol_tables t;
  t.sites = {{"main()", "main.cpp", 5, 0}, {"serve(conn&, int)", "/src/server.cpp", 12, 0}};
  t.frames = {{"main_task()", "main.cpp", 14, 0x1000}, {"read(conn&)", "/src/io.cpp", 31, 0x2100}};
  t.stacks = {{0}, {1, 0}};
  sample s{.seq = 7, .time_ns = 2'500'000'000};
  s.goroutines = {
      {.id = 1, .site = 0, .stack = 0, .state = goroutine_state::running},
      {.id = 42,
       .parent_id = 1,
       .site = 1,
       .stack = 1,
       .state = goroutine_state::waiting,
       .reason = wait_reason::chan_receive,
       .wait_ns = 1'500'000'000,
       .labels = with_label(with_label(nullptr, "request", "abc"), "b", "2")},
  };
  const pprof_source source{.start_unix_ns = 1'700'000'000'000'000'000,
                            .program = "/usr/bin/server",
                            .command_line = "/usr/bin/server --port 80"};
  pprof_goroutines p = parse_pprof_goroutines(pprof_goroutine_profile(t, s, source), "p.pb.gz");
  CHECK(p.program == "/usr/bin/server");
  CHECK(p.header.start_unix_ns == source.start_unix_ns);
  CHECK(p.header.pid == 0);
  REQUIRE(p.header.command_line.size() == 1);
  CHECK(p.header.command_line[0] == "/usr/bin/server --port 80");
  CHECK(p.s.seq == 7);
  CHECK(p.s.time_ns == 2'500'000'000);
  REQUIRE(p.s.goroutines.size() == 2);
  const goroutine_sample& g = p.s.goroutines[1];
  CHECK(g.id == 42);
  CHECK(g.parent_id == 1);
  CHECK(g.state == goroutine_state::waiting);
  CHECK(g.reason == wait_reason::chan_receive);
  CHECK(g.wait_ns == 1'500'000'000);
  REQUIRE(g.labels);
  CHECK(*g.labels == *s.goroutines[1].labels);
  CHECK(p.tables.sites.at(g.site).function == "serve(conn&, int)");
  CHECK(p.tables.sites.at(g.site).file == "/src/server.cpp");
  CHECK(p.tables.sites.at(g.site).line == 12);
  const auto& frames = p.tables.stacks.at(g.stack);
  REQUIRE(frames.size() == 2);
  CHECK(p.tables.frames.at(frames[0]) == t.frames[1]);
  CHECK(p.tables.frames.at(frames[1]) == t.frames[0]);
  CHECK(p.s.goroutines[0].state == goroutine_state::running);
  CHECK(!p.s.goroutines[0].labels);
  // Joined with the original by id, nothing but the counters differs.
  symbol_tables joined = t;
  sample back = import_sample(p.s, p.tables, joined);
  CHECK(back.goroutines[1].stack == s.goroutines[1].stack);
  CHECK(back.goroutines[1].site == s.goroutines[1].site);
}

TEST_CASE("what is not a gprof-id goroutine profile is one line naming the file") {
  CHECK(error_of("goroutine profile: total 3\n") ==
        "p.pb.gz: not gzip data: a pprof profile is gzip-compressed profile.proto (fetch "
        "/debug/pprof/goroutine without debug=)");
  std::string cut = gzip(std::string(1000, 'x'));
  cut.resize(cut.size() / 2);
  CHECK(error_of(cut).starts_with("p.pb.gz: corrupt gzip data"));
  CHECK(error_of(gzip("\xff\xff\xff")) ==
        "p.pb.gz: gzip data that is not a pprof profile (profile.proto)");

  // A goroutine profile as Go writes one: counts per stack, no goid label.
  pb::Profile go;
  go.add_string_table("");
  go.add_string_table("goroutine");
  go.add_string_table("count");
  auto* type = go.add_sample_type();
  type->set_type(1);
  type->set_unit(2);
  go.add_sample()->add_value(3);
  CHECK(error_of(gzip(go.SerializeAsString())) ==
        "p.pb.gz: sample 0 has no goid label: not a profile a gprof-id program wrote (Go's own "
        "goroutine profiles have no goroutine ids to join by)");
  type->set_type(2);
  CHECK(error_of(gzip(go.SerializeAsString())) ==
        "p.pb.gz: a count/count profile, not a goroutine profile");
}

}  // namespace
}  // namespace gprofid
