// Exports samples as folded stacks ("outer;inner;leaf count" per line), the input format of
// flamegraph.pl, inferno and speedscope.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <unordered_map>
#include <vector>

#include "gprofid/analysis/sample_changes.hpp"
#include "gprofid/recording/sample.hpp"

namespace gprofid {

enum class folded_weight {
  goroutines,    // each goroutine in each sample counts 1
  waiting_time,  // nanoseconds spent waiting, each wait counted once however many samples saw it
};

struct folded_options {
  folded_weight weight = folded_weight::goroutines;
  bool lines = false;  // frames as "function file:line" rather than "function"
};

// Accumulates samples one at a time, so a recording can be streamed through it.
class folded_builder {
 public:
  explicit folded_builder(folded_options options = {}) : options_(options) {}

  // Samples must be added in recording order; `tables` must cover `s`.
  void add(const symbol_tables& tables, const sample& s);
  // The same from what the sample changed (recording_reader::next_changes), at the cost of the
  // changes: goroutines are counted per stack as they come and go, waits that go on are not
  // looked at. `whole` fills in the sample whole; with --weight time it is asked for when a time
  // or wait is one the shortcut would not weigh as add(sample) does (a time that goes back, is
  // negative or above 2^62 ns; a wait that is negative or above 2^62 ns), and for every sample
  // after that. Use one of the two add()s for a whole recording.
  void add(const symbol_tables& tables, const sample_changes& c,
           const std::function<void(sample&)>& whole);

  // Every stack with a non-zero weight, one line each, sorted by stack.
  void write(std::ostream& out);
  std::string str();

 private:
  // A wait in progress: the stack it is in and how long it had lasted at the latest sample.
  struct open_wait {
    std::uint32_t stack = 0;
    std::int64_t wait_ns = 0;
    std::int64_t seen_ns = 0;
  };

  const std::string& folded_stack(const symbol_tables& tables, std::uint32_t stack);
  void flush_waits(std::int64_t now, bool all);
  void add_wait(const open_wait& w);
  // add(sample_changes): a goroutine in `stack` comes (+1) or goes (-1); a wait brought to the
  // latest sample (`waits_` entries of unchanged goroutines are as of when each was last seen).
  void count(const goroutine_sample& g, int by);
  void bring_up_to(open_wait& w, std::int64_t t) const noexcept;
  void wait_seen(const goroutine_sample& g, std::int64_t now, std::int64_t before);
  bool simple(const sample_changes& c) const noexcept;

  folded_options options_;
  std::unordered_map<std::uint32_t, std::string> folded_;  // stack index -> its line prefix
  std::map<std::string, std::uint64_t> weights_;
  std::unordered_map<std::uint64_t, open_wait> waits_;  // by goroutine id
  // add(sample_changes): live goroutines (not dead) per stack index, and each stack's weight.
  std::vector<std::uint64_t> live_per_stack_;
  std::vector<std::uint64_t*> weight_of_stack_;
  bool by_changes_ = true;  // add(sample_changes) has not fallen back to whole samples
  std::uint64_t samples_ = 0;
  std::int64_t last_ns_ = 0;  // the latest sample's time
};

// Folded stacks of `samples` at once.
std::string folded_stacks(const symbol_tables& tables, const std::vector<sample>& samples,
                          folded_options options = {});

}  // namespace gprofid
