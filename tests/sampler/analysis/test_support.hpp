// Helpers shared by the analysis tests: a small symbol table and a goroutine built in one call
// (the summary's tests), a whole recording read from memory (the readers' tests). Analysis
// only: no runtime.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "gprofid/analysis/recording_reader.hpp"
#include "gprofid/recording/sample.hpp"

namespace gprofid::testing {

inline constexpr std::int64_t sec = 1'000'000'000;

// Sites 0 main, 1 leaky, 2 ok; stacks 0..3, one frame each: leaky(), ok(), lock(), spin().
inline symbol_tables summary_tables() {
  symbol_tables t;
  t.sites = {{"main()", "main.cpp", 5}, {"leaky()", "leak.cpp", 3}, {"ok()", "ok.cpp", 4}};
  t.frames = {{"leaky()", "leak.cpp", 10},
              {"ok()", "ok.cpp", 20},
              {"lock()", "m.cpp", 7},
              {"spin()", "s.cpp", 1}};
  t.stacks = {{0}, {1}, {2}, {3}};
  return t;
}

// A goroutine spawned by 1.
inline goroutine_sample make_goroutine(std::uint64_t id, std::uint32_t site, std::uint32_t stack,
                                       goroutine_state st, wait_reason r = wait_reason::none,
                                       std::uint64_t resumes = 1) {
  return {.id = id,
          .parent_id = 1,
          .site = site,
          .stack = stack,
          .state = st,
          .reason = r,
          .resumes = resumes};
}

// What a reader made of a whole recording: its samples, warnings and the error that stopped it.
struct read_result {
  std::vector<sample> samples;
  std::vector<std::string> warnings;
  std::string error;  // what() of the recording_error, "" if none
};

// Reads `bytes` as the file `name`; dom_only: v1 lines by the JSON DOM only (the test seam).
inline read_result read_all(const std::string& bytes, const std::string& name,
                            bool dom_only = false) {
  read_result r;
  std::istringstream in(bytes);
  try {
    recording_reader reader(in, name);
    if (dom_only) reader.use_dom_parser_for_test();
    sample s;
    while (reader.next(s)) r.samples.push_back(s);
    r.warnings = reader.warnings();
  } catch (const recording_error& e) {
    r.error = e.what();
  }
  return r;
}

}  // namespace gprofid::testing
