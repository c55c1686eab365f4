// gprofid_bench_report: joins the JSON Lines of the C++ suite (gprofid_bench) and the Go suite
// (bench/go) on op, n and depth, prints one side-by-side Markdown table (ours, Go, ratio
// ours/Go, target) and writes everything, raw rows included, to a results JSON file.
//
//   gprofid_bench_report --cpp cpp.jsonl [--go go.jsonl] [--out results.json]
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace {

using json = nlohmann::ordered_json;

std::vector<json> read_rows(const std::string& path) {
  std::vector<json> rows;
  if (path.empty()) return rows;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] != '{') continue;  // tolerate stray non-JSON output
    rows.push_back(json::parse(line));
  }
  return rows;
}

int depth_of(const json& r) {
  if (!r.contains("extra")) return 0;
  return r["extra"].value("depth", 0);
}

const json* find_row(const std::vector<json>& rows, const std::string& op, std::int64_t n,
                     int depth) {
  for (const auto& r : rows) {
    if (r.value("op", "") == op && r.value("n", std::int64_t{0}) == n && depth_of(r) == depth) {
      return &r;
    }
  }
  return nullptr;
}

// How one of our ops is judged: against which Go op, and what counts as meeting the target
// (issue 6). `met` gets our value and the ratio ours/Go (when Go has a row).
struct comparison {
  std::string ours;
  std::string go;  // empty: ours only
  std::string target;
  std::function<std::optional<bool>(double ours, std::optional<double> ratio)> met;
  std::vector<std::string> notes;  // extra fields worth showing, ours then Go
};

std::function<std::optional<bool>(double, std::optional<double>)> ratio_at_most(double limit) {
  return [limit](double, std::optional<double> r) -> std::optional<bool> {
    if (!r) return std::nullopt;
    return *r <= limit;
  };
}
std::function<std::optional<bool>(double, std::optional<double>)> value_at_most(double limit) {
  return [limit](double v, std::optional<double>) -> std::optional<bool> { return v <= limit; };
}
std::function<std::optional<bool>(double, std::optional<double>)> value_at_least(double limit) {
  return [limit](double v, std::optional<double>) -> std::optional<bool> { return v >= limit; };
}
std::function<std::optional<bool>(double, std::optional<double>)> no_target() {
  return [](double, std::optional<double>) -> std::optional<bool> { return std::nullopt; };
}

std::vector<comparison> comparisons() {
  return {
      {"spawn_park", "spawn_park", "<= 0.5", ratio_at_most(0.5), {"warm_ns_per_g"}},
      {"mem_parked", "mem_parked", "<= 0.25", ratio_at_most(0.25), {}},
      {"pingpong_p1", "pingpong_p1", "<= 1.0", ratio_at_most(1.0), {}},
      {"pingpong_p2", "pingpong_p2", "<= 1.0", ratio_at_most(1.0), {}},
      {"worker_pool", "worker_pool", "(higher is better)", no_target(), {}},
      {"lock_oversubscribed", "", "-", no_target(), {"threads", "cpu_ns_per_op"}},
      {"lock_oversubscribed_yielding", "", "-", no_target(), {"threads", "cpu_ns_per_op"}},
      {"lock_holder_off_cpu", "", "-", no_target(), {"waiters"}},
      {"lock_holder_off_cpu_yielding", "", "-", no_target(), {"waiters"}},
      // The same with -DGPROFID_TRACKING=OFF (make bench builds both).
      {"spawn_park_untracked", "spawn_park", "-", no_target(), {"warm_ns_per_g"}},
      {"pingpong_p1_untracked", "pingpong_p1", "-", no_target(), {}},
      {"pingpong_p2_untracked", "pingpong_p2", "-", no_target(), {}},
      {"worker_pool_untracked", "worker_pool", "(higher is better)", no_target(), {}},
      {"snapshot_raw", "snapshot_goroutineprofile", "<= 0.5", ratio_at_most(0.5), {}},
      {"snapshot_profile", "snapshot_goroutineprofile", "<= 0.5", ratio_at_most(0.5), {}},
      {"snapshot_profile", "snapshot_pprof_debug0", "-", no_target(), {}},
      {"snapshot_profile", "snapshot_pprof_debug2", "<= 0.05", ratio_at_most(0.05), {}},
      {"snapshot_pause",
       "snapshot_pause",
       "<= 100 us, flat in N",
       value_at_most(100),
       {"baseline_max_us", "quiet_max_us", "baseline_quiet_max_us", "quiet_windows", "max_hold_us",
        "snapshot_mean_us"}},
      // Snapshots from a thread, 1 worker: Go has no such mode (its profiler needs a P).
      {"snapshot_pause_thread",
       "",
       "quiet_max_us near baseline_quiet_max_us",
       no_target(),
       {"baseline_max_us", "quiet_max_us", "baseline_quiet_max_us", "quiet_windows",
        "baseline_quiet_windows", "median_window_max_us", "max_hold_us", "snapshot_mean_us"}},
      {"sampling_overhead",
       "sampling_overhead",
       "<= 2 %",
       value_at_most(2),
       {"sample_hz", "bytes_per_goroutine_sample"}},
      {"sampling_overhead_v2",
       "sampling_overhead",
       "<= 2 %",
       value_at_most(2),
       {"sample_hz", "bytes_per_goroutine_sample", "records_per_sample", "sample_cpu_us"}},
      {"sampling_overhead_v2_full",
       "sampling_overhead",
       "-",
       no_target(),
       {"sample_hz", "bytes_per_goroutine_sample", "records_per_sample", "sample_cpu_us"}},
      {"sampling_overhead_v2_graph",
       "sampling_overhead",
       "-",
       no_target(),
       {"sample_hz", "bytes_per_goroutine_sample", "records_per_sample", "sample_cpu_us"}},
      {"sample_cost", "", "-", no_target(), {"ns_per_record", "sample_cpu_us", "waits_per_sample"}},
      // An estimate from the pieces timed apart, which overstates them (61 % where the untracked
      // build measured 2.5 % in session 11): the tracking target is judged by tracking_pingpong_*.
      {"identity_pingpong", "", "-", no_target(), {"roundtrip_ns", "tracking_ns"}},
      {"identity_spawn", "", "<= 10 %", value_at_most(10), {"spawn_ns", "tracking_ns"}},
      {"identity_frame", "", "-", no_target(), {"inside_goroutine_ns", "outside_goroutine_ns"}},
      {"identity_resume", "", "-", no_target(), {"percent_of_roundtrip"}},
      {"diff", "", ">= 5M/s", value_at_least(5e6), {"median_ms"}},
      {"diff_peak_rss", "", "<= 3x", value_at_most(3), {"diff_working_bytes"}},
      {"recording_size", "", "-", no_target(), {}},
  };
}

std::string fmt(double v) {
  char buf[64];
  const double a = std::fabs(v);
  if (a >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.2fM", v / 1e6);
  } else if (a >= 100) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else if (a >= 1) {
    std::snprintf(buf, sizeof buf, "%.2f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.3f", v);
  }
  return buf;
}

std::string note_text(const json* row, const std::vector<std::string>& keys) {
  std::string s;
  if (!row || !row->contains("extra")) return s;
  for (const auto& k : keys) {
    const auto& extra = (*row)["extra"];
    if (!extra.contains(k) || !extra[k].is_number()) continue;
    if (!s.empty()) s += ", ";
    s += k + " " + fmt(extra[k].get<double>());
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  std::string cpp_path, go_path, out_path;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--cpp")
      cpp_path = argv[i + 1];
    else if (a == "--go")
      go_path = argv[i + 1];
    else if (a == "--out")
      out_path = argv[i + 1];
  }
  if (cpp_path.empty()) {
    std::cerr << "usage: gprofid_bench_report --cpp cpp.jsonl [--go go.jsonl] [--out FILE]\n";
    return 2;
  }
  try {
    const auto cpp = read_rows(cpp_path);
    const auto go = read_rows(go_path);
    json rows = json::array();
    std::cout << "| operation | N | depth | ours | Go | unit | ours/Go | target | met | notes "
                 "(ours; Go) |\n|---|---:|---:|---:|---:|---|---:|---|---|---|\n";
    for (const auto& c : comparisons()) {
      for (const auto& r : cpp) {
        if (r.value("op", "") != c.ours) continue;
        const auto n = r.value("n", std::int64_t{0});
        const int depth = depth_of(r);
        const double ours = r.value("value", 0.0);
        const json* g = c.go.empty() ? nullptr : find_row(go, c.go, n, depth);
        std::optional<double> theirs, ratio;
        if (g) theirs = g->value("value", 0.0);
        if (theirs && *theirs != 0) ratio = ours / *theirs;
        const auto met = c.met(ours, ratio);
        std::string notes = note_text(&r, c.notes);
        if (const std::string gn = note_text(g, c.notes); !gn.empty()) notes += "; " + gn;
        const std::string label = c.go.empty() || c.go == c.ours ? c.ours : c.ours + " vs " + c.go;
        std::cout << "| " << label << " | " << n << " | " << (depth ? std::to_string(depth) : "")
                  << " | " << fmt(ours) << " | " << (theirs ? fmt(*theirs) : "-") << " | "
                  << r.value("unit", "") << " | " << (ratio ? fmt(*ratio) : "-") << " | "
                  << c.target << " | " << (met ? (*met ? "yes" : "**no**") : "-") << " | " << notes
                  << " |\n";
        json row = {{"op", c.ours},   {"go_op", c.go}, {"n", n},
                    {"depth", depth}, {"ours", ours},  {"unit", r.value("unit", "")}};
        row["go"] = theirs ? json(*theirs) : json(nullptr);
        row["ratio"] = ratio ? json(*ratio) : json(nullptr);
        row["target"] = c.target;
        row["met"] = met ? json(*met) : json(nullptr);
        rows.push_back(row);
      }
    }
    // What tracking costs, measured: the tracked build against the untracked one, same run.
    for (const char* op : {"spawn_park", "pingpong_p1", "pingpong_p2", "worker_pool"}) {
      for (const auto& on : cpp) {
        if (on.value("op", "") != op) continue;
        const auto n = on.value("n", std::int64_t{0});
        const json* off = find_row(cpp, std::string(op) + "_untracked", n, 0);
        if (!off) continue;
        const double a = on.value("value", 0.0), b = off->value("value", 0.0);
        if (a <= 0 || b <= 0) continue;
        // Times: the share of the tracked time; rates (items/s): the share of the untracked rate.
        const bool rate = on.value("unit", "").find("/s") != std::string::npos;
        const double pct = rate ? 100 * (b - a) / b : 100 * (a - b) / a;
        const bool judged = std::string(op).rfind("pingpong", 0) == 0;
        const std::string label = std::string("tracking_") + op;
        std::cout << "| " << label << " | " << n << " |  | " << fmt(pct) << " | - | percent | - | "
                  << (judged ? "<= 10 %" : "-") << " | "
                  << (judged ? (pct <= 10 ? "yes" : "**no**") : "-") << " | tracked " << fmt(a)
                  << ", untracked " << fmt(b) << " " << on.value("unit", "") << " |\n";
        json row = {{"op", label},       {"n", n},       {"ours", pct},
                    {"unit", "percent"}, {"tracked", a}, {"untracked", b}};
        row["target"] = judged ? "<= 10 %" : "-";
        row["met"] = judged ? json(pct <= 10) : json(nullptr);
        rows.push_back(row);
      }
    }
    if (!out_path.empty()) {
      json out = {{"generated_unix", static_cast<std::int64_t>(std::time(nullptr))}};
      const json* ci = find_row(cpp, "runtime_info", 0, 0);
      const json* gi = find_row(go, "runtime_info", 0, 0);
      out["machine"] = {{"cpp", ci ? (*ci)["extra"] : json()},
                        {"go", gi ? (*gi)["extra"] : json()}};
      out["rows"] = rows;
      out["cpp"] = cpp;
      out["go"] = go;
      std::ofstream f(out_path);
      f << out.dump(1) << "\n";
      if (!f) throw std::runtime_error("cannot write " + out_path);
    }
  } catch (const std::exception& e) {
    std::cerr << "gprofid_bench_report: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
