#include <array>
#include <cmath>
#include <functional>
#include <string>

#include "gprofid/clock.hpp"
#include "gprofid/runtime.hpp"
#include "workloads/workload.hpp"

namespace gprofid::workloads {
namespace {

double parse_number(const workload_option& o, std::string_view text,
                    std::int64_t (*parse_duration)(std::string_view)) {
  const std::string where = "option " + std::string(o.key) + "=" + std::string(text) + ": ";
  switch (o.kind) {
    case option_kind::duration:
      try {
        return static_cast<double>(parse_duration(text));
      } catch (const std::exception& e) {
        throw option_error(where + e.what());
      }
    case option_kind::count: {
      // Counts size goroutines, channels and batches: bounded, so that a typo cannot make the
      // workload allocate the machine's memory.
      if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos ||
          text.size() > 12 || std::stod(std::string(text)) > max_count) {
        throw option_error(where + "expected a whole number from 0 to " +
                           std::to_string(max_count));
      }
      return std::stod(std::string(text));
    }
    case option_kind::ratio: {
      std::size_t used = 0;
      double v = -1;
      try {
        v = std::stod(std::string(text), &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != text.size() || !(v >= 0 && v <= 1)) {
        throw option_error(where + "expected a number from 0 to 1");
      }
      return v;
    }
  }
  throw option_error(where + "unknown option kind");
}

task<void> close_when_set(event& stop, chan<bool> ch) {
  co_await stop.wait();
  ch.close();
}

}  // namespace

chan<bool> stop_channel(event& stop) {
  auto ch = make_chan<bool>();
  go(close_when_set(stop, ch));
  return ch;
}

void spin_for(std::chrono::nanoseconds d) noexcept {
  const std::int64_t until = monotonic_ns() + d.count();
  while (monotonic_ns() < until) {
  }
}

double workload_args::get(std::string_view key) const {
  auto it = values_.find(key);
  if (it == values_.end())
    throw std::logic_error("workload option not declared: " + std::string(key));
  return it->second;
}

std::int64_t workload_args::count(std::string_view key) const {
  return static_cast<std::int64_t>(get(key));
}

std::chrono::nanoseconds workload_args::duration(std::string_view key) const {
  return std::chrono::nanoseconds(static_cast<std::int64_t>(get(key)));
}

double workload_args::ratio(std::string_view key) const {
  return get(key);
}

std::span<const workload> all_workloads() noexcept {
  // Built on first use: each workload lives in its own file.
  static const std::array<workload, 5> table = {http_workload(), worker_pool_workload(),
                                                pipeline_workload(), leak_workload(),
                                                deadlock_workload()};
  return table;
}

const workload* find_workload(std::string_view name) noexcept {
  for (const auto& w : all_workloads()) {
    if (w.name == name) return &w;
  }
  return nullptr;
}

const workload& default_workload() noexcept {
  return all_workloads().front();  // http: labels, slow requests, I/O waits, many goroutines
}

workload_args parse_options(const workload& w, const std::vector<std::string>& key_values,
                            std::int64_t (*parse_duration)(std::string_view)) {
  workload_args args;
  for (const auto& o : w.options) {
    args.set(std::string(o.key), parse_number(o, o.default_value, parse_duration));
  }
  for (const auto& kv : key_values) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw option_error("workload option \"" + kv + "\": expected key=value");
    }
    const std::string_view key = std::string_view(kv).substr(0, eq);
    const workload_option* found = nullptr;
    for (const auto& o : w.options) {
      if (o.key == key) found = &o;
    }
    if (!found) {
      std::string known;
      for (const auto& o : w.options) known += (known.empty() ? "" : ", ") + std::string(o.key);
      throw option_error("workload " + std::string(w.name) + " has no option \"" +
                         std::string(key) + "\" (options: " + (known.empty() ? "none" : known) +
                         ")");
    }
    args.set(std::string(key),
             parse_number(*found, std::string_view(kv).substr(eq + 1), parse_duration));
  }
  return args;
}

}  // namespace gprofid::workloads
