// Every measurement of the C++ suite, one function per op (op names, n and units match
// bench/go so the report can join rows), and the plan that orders them.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "bench_support.hpp"

namespace gprofid::bench {

using runner = std::function<std::vector<result>(const job&)>;

// spawn_bench.cpp
std::vector<result> spawn_park(const job& j);
std::vector<result> mem_parked(const job& j);
// chan_bench.cpp
std::vector<result> pingpong(const job& j);
std::vector<result> worker_pool(const job& j);
// lock_bench.cpp
std::vector<result> lock_oversubscribed(const job& j);
// snapshot_bench.cpp
std::vector<result> snapshot_cost(const job& j);
std::vector<result> snapshot_pause(const job& j);
// sampling_bench.cpp
std::vector<result> sampling_overhead(const job& j);
// sample_cost_bench.cpp
std::vector<result> sample_cost(const job& j);
// identity_bench.cpp
std::vector<result> identity(const job& j);
// diff_bench.cpp
std::vector<result> diff(const job& j);
// recording_bench.cpp
std::vector<result> recording_format(const job& j);

// Op name -> measurement.
const std::map<std::string, runner>& runners();

// One step of the plan: a job and how many fresh processes to run it in (median reported).
struct step {
  job j;
  int reps = 1;
};
std::vector<step> plan(bool quick);

}  // namespace gprofid::bench
