// Exports samples as folded stacks ("outer;inner;leaf count" per line), the input format of
// flamegraph.pl, inferno and speedscope.
#pragma once

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <unordered_map>
#include <vector>

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

  folded_options options_;
  std::unordered_map<std::uint32_t, std::string> folded_;  // stack index -> its line prefix
  std::map<std::string, std::uint64_t> weights_;
  std::unordered_map<std::uint64_t, open_wait> waits_;  // by goroutine id
};

// Folded stacks of `samples` at once.
std::string folded_stacks(const symbol_tables& tables, const std::vector<sample>& samples,
                          folded_options options = {});

}  // namespace gprofid
