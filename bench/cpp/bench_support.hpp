// Shared pieces of the C++ benchmark suite: the job/result rows exchanged with the driver (the
// same JSON Lines contract as bench/go), parked goroutine sets, RSS readings and a histogram.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "gprofid/channel.hpp"
#include "gprofid/task.hpp"
#include "gprofid/wait_group.hpp"

namespace gprofid::bench {

using json = nlohmann::ordered_json;

// One measurement, run in a fresh child process (see main.cpp).
struct job {
  std::string op;
  std::int64_t n = 0;
  int depth = 0;            // parked call depth (snapshot ops)
  int procs = 0;            // workers; 0: one per core, like GOMAXPROCS's default
  std::int64_t dur_ms = 0;  // measurement window (timed ops)
  int reps = 0;             // windows of each kind (snapshot_pause); 0: one
};

// One output row; `suite` is always "cpp".
struct result {
  std::string op;
  std::int64_t n = 0;
  double value = 0;
  std::string unit;
  json extra = json::object();
};

json to_json(const job& j);
job job_from_json(const json& j);
json to_json(const result& r);

// Workers for a job: procs, or one per core.
std::size_t workers_for(const job& j);

// Goroutines blocked receiving on one shared unbuffered channel that is never sent on, each
// parked at a given call depth (bench/go/park.go's parkN).
struct parked_set {
  chan<int> block = make_chan<int>();
  wait_group started;
  wait_group exited;
};

// Spawns n goroutines parked at `depth` nested coroutine frames; returns the ns it took from the
// first spawn until all of them were about to park. Await from inside a goroutine.
task<std::int64_t> park_n(parked_set& p, std::int64_t n, int depth);
// Wakes every parked goroutine and waits until all of them have exited.
task<void> release(parked_set& p);

// Resident set size of this process in bytes (/proc/self/statm), and its peak (VmHWM).
std::int64_t rss_bytes();
std::int64_t peak_rss_bytes();
// Resets VmHWM to the current RSS (Linux >= 4.0); false if not permitted.
bool reset_peak_rss();
// Returns freed heap memory to the OS so an RSS baseline is tight (malloc_trim).
void trim_heap();

double median(std::vector<double> v);
double round3(double v);

// Log-linear latency histogram (64 sub-buckets per power of two, ~1.6% error), as in
// bench/go/stats.go. Recording never allocates, so it stays out of the latency it measures.
class histogram {
 public:
  void record(std::int64_t ns) noexcept;
  std::int64_t quantile(double q) const noexcept;
  std::int64_t max() const noexcept { return max_; }
  std::uint64_t total() const noexcept { return total_; }
  // Adds every round trip `other` recorded (windows pooled into one distribution).
  void merge(const histogram& other) noexcept;

 private:
  std::array<std::uint64_t, 64 * 64> counts_{};
  std::uint64_t total_ = 0;
  std::int64_t max_ = 0;
};

}  // namespace gprofid::bench
