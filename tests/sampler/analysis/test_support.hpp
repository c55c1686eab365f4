// Helpers shared by the summary's tests (diff_summary_test, summary_findings_test): a small
// symbol table and a goroutine built in one call. Analysis only: no runtime.
#pragma once

#include <cstdint>

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

}  // namespace gprofid::testing
