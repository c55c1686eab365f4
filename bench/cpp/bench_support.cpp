#include "bench_support.hpp"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

#include "gprofid/clock.hpp"
#include "gprofid/detail/config.hpp"
#include "gprofid/runtime.hpp"

namespace gprofid::bench {

json to_json(const job& j) {
  json o = {{"op", j.op}, {"n", j.n}};
  if (j.depth) o["depth"] = j.depth;
  if (j.procs) o["procs"] = j.procs;
  if (j.dur_ms) o["dur_ms"] = j.dur_ms;
  if (j.reps) o["reps"] = j.reps;
  return o;
}

job job_from_json(const json& o) {
  job j;
  j.op = o.at("op").get<std::string>();
  j.n = o.at("n").get<std::int64_t>();
  j.depth = o.value("depth", 0);
  j.procs = o.value("procs", 0);
  j.dur_ms = o.value("dur_ms", std::int64_t{0});
  j.reps = o.value("reps", 0);
  return j;
}

json to_json(const result& r) {
  // A build without tracking (make bench builds both) names its rows apart, so that one report
  // can set them side by side.
  const std::string op = GPROFID_TRACKING ? r.op : r.op + "_untracked";
  json o = {{"suite", "cpp"}, {"op", op}, {"n", r.n}, {"value", r.value}, {"unit", r.unit}};
  if (!r.extra.empty()) o["extra"] = r.extra;
  return o;
}

std::size_t workers_for(const job& j) {
  if (j.procs > 0) return static_cast<std::size_t>(j.procs);
  return std::max(1u, std::thread::hardware_concurrency());
}

namespace {

// `depth` frames of itself, then parks; a coroutine call is never inlined away, so every frame
// shows up in a snapshot like Go's //go:noinline parkAt.
task<void> park_at(int depth, parked_set& p) {
  if (depth > 1) {
    co_await park_at(depth - 1, p);
    co_return;
  }
  p.started.done();
  co_await p.block.recv();
}

task<void> parked_root(int depth, parked_set& p) {
  co_await park_at(depth, p);
  p.exited.done();
}

}  // namespace

task<std::int64_t> park_n(parked_set& p, std::int64_t n, int depth) {
  p.started.add(n);
  p.exited.add(n);
  const std::int64_t t0 = monotonic_ns();
  for (std::int64_t i = 0; i < n; ++i) go(parked_root(depth, p));
  co_await p.started.wait();
  co_return monotonic_ns() - t0;
}

task<void> release(parked_set& p) {
  p.block.close();
  co_await p.exited.wait();
  p.block = make_chan<int>();  // ready for another round
}

namespace {
std::int64_t statm_field(int index) {
  std::ifstream in("/proc/self/statm");
  std::int64_t v = 0;
  for (int i = 0; i <= index; ++i) in >> v;
  return v * sysconf(_SC_PAGESIZE);
}
}  // namespace

std::int64_t rss_bytes() {
  return statm_field(1);
}

std::int64_t peak_rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      std::istringstream fields(line.substr(6));
      std::int64_t kib = 0;
      fields >> kib;
      return kib * 1024;
    }
  }
  return 0;
}

bool reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

void trim_heap() {
  malloc_trim(0);
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double round3(double v) {
  return std::round(v * 1000) / 1000;
}

namespace {
constexpr int sub_bits = 6;

int bucket_of(std::uint64_t v) {
  if (v < (1u << sub_bits)) return static_cast<int>(v);
  const int e = std::bit_width(v) - sub_bits - 1;
  return (e << sub_bits) + static_cast<int>(v >> e);
}

std::uint64_t bucket_low(int i) {
  if (i < (1 << sub_bits)) return static_cast<std::uint64_t>(i);
  const int e = (i >> sub_bits) - 1;
  return static_cast<std::uint64_t>(i - (e << sub_bits)) << e;
}
}  // namespace

void histogram::record(std::int64_t ns) noexcept {
  if (ns < 0) ns = 0;
  ++counts_[static_cast<std::size_t>(bucket_of(static_cast<std::uint64_t>(ns)))];
  ++total_;
  max_ = std::max(max_, ns);
}

void histogram::merge(const histogram& other) noexcept {
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  total_ += other.total_;
  max_ = std::max(max_, other.max_);
}

std::int64_t histogram::quantile(double q) const noexcept {
  if (total_ == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total_));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen > rank) return static_cast<std::int64_t>(bucket_low(static_cast<int>(i)));
  }
  return max_;
}

}  // namespace gprofid::bench
