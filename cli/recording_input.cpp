#include "cli/recording_input.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <deque>
#include <stdexcept>

#include "cli/diagnostics.hpp"
#include "cli/exit_status.hpp"
#include "cli/standard_input.hpp"
#include "gprofid/analysis/recording_reader.hpp"

namespace gprofid::cli {

recording_arg parse_recording_arg(const std::string& text) {
  auto at = text.rfind('@');
  if (at == std::string::npos || at == 0 || at + 1 == text.size()) return {text, std::nullopt};
  std::int64_t n = 0;
  const char* b = text.data() + at + 1;
  const char* e = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(b, e, n);
  if (ec != std::errc{} || ptr != e) return {text, std::nullopt};
  return {text.substr(0, at), n};
}

void print_warnings(const std::vector<std::string>& warnings) {
  for (const auto& w : warnings) print_warning("%s", w.c_str());
}

bool rereadable(const std::string& path) {
  if (is_standard_input(path)) return false;  // "-" is whatever descriptor 0 is: read it once
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::uint64_t count_samples(const std::string& path) {
  // v2 samples are counted by their blocks, without decoding their records.
  return open_recording(path)->skip_rest();
}

picked_samples pick_samples(const std::string& path, std::vector<std::int64_t> indices) {
  const std::vector<std::int64_t> asked = indices;  // for messages: indices may be resolved
  // |index| of the most negative index, computed without overflowing at INT64_MIN.
  std::uint64_t keep = 0;
  for (auto i : indices) {
    if (i < 0) keep = std::max(keep, static_cast<std::uint64_t>(-(i + 1)) + 1);
  }
  if (keep > 0 && rereadable(path)) {
    // Counting first passes over the blocks (count_samples); holding the tail would hold
    // |index| samples, and take each sample whole to do so.
    const std::uint64_t n = count_samples(path);
    for (auto& i : indices) {
      const std::uint64_t back = i < 0 ? static_cast<std::uint64_t>(-(i + 1)) + 1 : 0;
      if (back > 0 && back <= n) i = static_cast<std::int64_t>(n - back);
    }
    keep = 0;  // an index still negative is out of range: reported below
  }
  const auto opened = open_recording(path);
  recording_reader& reader = *opened;
  picked_samples out;
  out.header = reader.header();
  out.samples.resize(indices.size());
  std::vector<bool> found(indices.size(), false);
  std::deque<sample> tail;  // the last `keep` samples, for negative indices
  if (keep == 0) {
    // Every index is known: go to each in turn (in a v2 file, from the keyframe before it),
    // take it whole, and pass over the rest for the count, the tables and the warnings.
    std::vector<std::size_t> order;
    for (std::size_t k = 0; k < indices.size(); ++k) {
      if (indices[k] >= 0) order.push_back(k);
    }
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return indices[a] < indices[b]; });
    for (std::size_t k : order) {
      if (!reader.skip_to(static_cast<std::uint64_t>(indices[k]))) break;
      reader.current(out.samples[k]);
      found[k] = true;
    }
    out.count = reader.samples_read() + reader.skip_rest();
  } else {
    // Only the last `keep` samples (of a FIFO) will do: each is held whole until it is not.
    while (reader.skip_to(out.count)) {
      sample s;
      reader.current(s);
      for (std::size_t k = 0; k < indices.size(); ++k) {
        if (indices[k] >= 0 && static_cast<std::uint64_t>(indices[k]) == out.count) {
          out.samples[k] = s;
          found[k] = true;
        }
      }
      tail.push_back(std::move(s));
      if (tail.size() > keep) tail.pop_front();
      ++out.count;
    }
  }
  print_warnings(reader.warnings());
  for (std::size_t k = 0; k < indices.size(); ++k) {
    const std::int64_t i = indices[k];
    if (i >= 0 || found[k]) continue;
    const std::uint64_t back = static_cast<std::uint64_t>(-(i + 1)) + 1;
    if (back <= tail.size()) {
      out.samples[k] = tail[tail.size() - back];
      found[k] = true;
    }
  }
  for (std::size_t k = 0; k < indices.size(); ++k) {
    if (!found[k] && out.count == 0) throw std::out_of_range(no_samples_text(recording_name(path)));
    if (!found[k]) {
      throw std::out_of_range(recording_name(path) + ": no sample " + std::to_string(asked[k]) +
                              " (the recording has " + std::to_string(out.count) + " samples)");
    }
  }
  out.tables = reader.tables();
  return out;
}

picked_sample pick_sample(const std::string& path, std::int64_t index) {
  picked_samples p = pick_samples(path, {index});
  return {std::move(p.header), std::move(p.tables), std::move(p.samples.front()), p.count};
}

int with_recording_errors(const std::function<int()>& body) {
  try {
    return body();
  } catch (const recording_error& e) {
    print_error("%s", e.what());
    return exit_bad_input;
  } catch (const std::out_of_range& e) {
    print_error("%s", e.what());
    return exit_bad_input;
  }
}

std::string no_samples_text(const std::string& name) {
  return name + ": the recording has no samples";
}

}  // namespace gprofid::cli
