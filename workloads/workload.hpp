// Built-in workloads: small realistic programs that `gprof-id record --workload NAME` runs on a
// gprofid::runtime while the sampler records them. Each has a name, a one-line description and
// typed options (`--opt key=value`), and runs until its stop event is set or it finishes.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "gprofid/channel.hpp"
#include "gprofid/event.hpp"
#include "gprofid/task.hpp"

namespace gprofid::workloads {

// What an option's value is; the CLI parses the text accordingly.
enum class option_kind {
  count,     // an integer from 0 to max_count
  duration,  // "100ms", "2s": nanoseconds
  ratio,     // a number in [0, 1]
};

// The largest count option (goroutines, queue capacities, batch sizes) a workload accepts.
inline constexpr std::int64_t max_count = 1'000'000;

struct workload_option {
  std::string_view key;
  option_kind kind;
  std::string_view default_value;  // in the same text form the user writes
  std::string_view help;
};

// Bad option key or value; what() is one line for the user.
class option_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// The parsed options of one run: every option of the workload, defaulted where not given.
class workload_args {
 public:
  void set(std::string key, double value) { values_[std::move(key)] = value; }
  std::int64_t count(std::string_view key) const;
  std::chrono::nanoseconds duration(std::string_view key) const;
  double ratio(std::string_view key) const;

 private:
  double get(std::string_view key) const;
  std::map<std::string, double, std::less<>> values_;
};

// What a running workload gets. Both referents outlive the workload's main goroutine.
struct workload_context {
  const workload_args& args;
  event& stop;  // set (from any thread) when the recording ends; the workload then returns
  // Informational messages for the user (e.g. the port a server listens on); may be empty.
  std::function<void(const std::string&)> note{};
};

struct workload {
  std::string_view name;
  std::string_view description;
  std::span<const workload_option> options;
  task<void> (*main)(workload_context ctx);
};

// A channel that is closed once `stop` is set, for select cases and plain receives. Spawns one
// goroutine (blocked on the event) to close it; call from inside a goroutine.
chan<bool> stop_channel(event& stop);

// Keeps the worker busy for about `d` without blocking: simulated CPU work, so that samples also
// catch goroutines running.
void spin_for(std::chrono::nanoseconds d) noexcept;

// Every built-in workload, in the order `gprof-id workloads` lists them.
std::span<const workload> all_workloads() noexcept;
// The workload called `name`, or null.
const workload* find_workload(std::string_view name) noexcept;
// The one `make run` records: the workload that shows the most.
const workload& default_workload() noexcept;

// Options of `w` from "key=value" strings and defaults. `parse_duration` turns duration text
// into nanoseconds (the CLI's parser, so one syntax everywhere) and throws on bad text.
workload_args parse_options(const workload& w, const std::vector<std::string>& key_values,
                            std::int64_t (*parse_duration)(std::string_view));

// The workloads, one file each.
const workload& worker_pool_workload() noexcept;
const workload& pipeline_workload() noexcept;
const workload& leak_workload() noexcept;
const workload& http_workload() noexcept;
const workload& deadlock_workload() noexcept;

}  // namespace gprofid::workloads
