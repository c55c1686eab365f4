// A synthetic recording without a runtime, shared by the recording tests and the benchmark
// suite (bench/cpp/recording_bench.cpp) so that both measure and check the same shape: a
// population of goroutines parked two frames deep in a channel receive, in which each sample
// 10% run (stack, wait, resumes and times change), 1% exit and 1% are new.
#pragma once

#include <cstdint>
#include <vector>

#include "gprofid/recording/sample.hpp"

namespace gprofid::testing {

// The fields of a parked goroutine that callers vary; the rest is fixed by parked_goroutine.
struct parked_fields {
  std::int64_t created_ns = 0;
  std::int64_t wait_ns = 0;
  std::uint64_t resumes = 1;
  std::int64_t running_ns = 0;
  std::int64_t runnable_ns = 0;
};

// A goroutine spawned by 1 at site 1, waiting in `chan receive` on stack 1 (two frames in
// churn_tables()).
inline goroutine_sample parked_goroutine(std::uint64_t id, parked_fields f = {}) {
  goroutine_sample g;
  g.id = id;
  g.parent_id = 1;
  g.site = 1;
  g.stack = 1;
  g.state = goroutine_state::waiting;
  g.reason = wait_reason::chan_receive;
  g.created_ns = f.created_ns;
  g.wait_ns = f.wait_ns;
  g.resumes = f.resumes;
  g.running_ns = f.running_ns;
  g.runnable_ns = f.runnable_ns;
  return g;
}

// Sites 0 main and 1 handler; stacks 0 {handler}, 1 {read_body, handler}, 2 {write_reply,
// handler}.
inline symbol_tables churn_tables() {
  symbol_tables t;
  t.sites = {{"main", "main.cpp", 10, 0x1000}, {"handler(request&)", "server.cpp", 42, 0x2000}};
  t.frames = {{"handler(request&)", "server.cpp", 57, 0x2100},
              {"read_body(conn&)", "server.cpp", 88, 0x2200},
              {"write_reply(conn&)", "server.cpp", 97, 0x2300}};
  t.stacks = {{0}, {1, 0}, {2, 0}};
  return t;
}

// A goroutine of the churn, new at `t_ns`.
inline goroutine_sample churn_goroutine(std::uint64_t id, std::int64_t t_ns) {
  return parked_goroutine(id, {.created_ns = t_ns, .running_ns = 2'000, .runnable_ns = 500});
}

// The next sample, `dt` later: wait_ns grows for the waiting, every 10th goroutine (rotating)
// ran and parked elsewhere, 1% exit (never 1), 1% are new with ids from `next_id`.
inline sample churn_step(const sample& prev, std::uint64_t& next_id, std::int64_t dt) {
  sample s;
  s.seq = prev.seq + 1;
  s.time_ns = prev.time_ns + dt;
  s.duration_ns = 1'000'000;
  const std::uint64_t phase = s.seq % 10;
  s.goroutines.reserve(prev.goroutines.size() + prev.goroutines.size() / 100);
  for (const auto& g0 : prev.goroutines) {
    if (g0.id % 100 == s.seq % 100 && g0.id != 1) continue;  // exits
    goroutine_sample g = g0;
    if (g.state == goroutine_state::waiting) g.wait_ns += dt;
    if (g.id % 10 == phase) {
      g.stack = g.stack == 1 ? 2 : 1;
      g.wait_ns = 1'000 + static_cast<std::int64_t>(g.id % 977);
      g.resumes += 1;
      g.running_ns += 12'345 + static_cast<std::int64_t>(g.id % 101);
      g.runnable_ns += 678;
    }
    s.goroutines.push_back(g);
  }
  const std::size_t fresh = prev.goroutines.size() / 100;
  for (std::size_t i = 0; i < fresh; ++i)
    s.goroutines.push_back(churn_goroutine(next_id++, s.time_ns));
  return s;
}

// `samples` samples 10 ms apart of a churn that starts with goroutines 1..n.
inline std::vector<sample> churn_samples(std::int64_t n, std::size_t samples) {
  std::vector<sample> out(1);
  out[0].goroutines.reserve(static_cast<std::size_t>(n));
  for (std::int64_t i = 1; i <= n; ++i) {
    out[0].goroutines.push_back(churn_goroutine(static_cast<std::uint64_t>(i), 0));
  }
  std::uint64_t next_id = static_cast<std::uint64_t>(n) + 1;
  while (out.size() < samples) out.push_back(churn_step(out.back(), next_id, 10'000'000));
  return out;
}

}  // namespace gprofid::testing
