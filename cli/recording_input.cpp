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
  const auto counter = open_recording(path);
  sample_changes c;  // a v2 sample is counted at the cost of its changes
  std::uint64_t n = 0;
  while (counter->next_changes(c)) ++n;
  return n;
}

picked_samples pick_samples(const std::string& path, std::vector<std::int64_t> indices) {
  const std::vector<std::int64_t> asked = indices;  // for messages: indices may be resolved
  // |index| of the most negative index, computed without overflowing at INT64_MIN.
  std::uint64_t keep = 0;
  for (auto i : indices) {
    if (i < 0) keep = std::max(keep, static_cast<std::uint64_t>(-(i + 1)) + 1);
  }
  if (keep > 1 && rereadable(path)) {
    // Counting first holds one sample; holding the tail would hold |index| of them.
    const std::uint64_t n = count_samples(path);
    for (auto& i : indices) {
      const std::uint64_t back = i < 0 ? static_cast<std::uint64_t>(-(i + 1)) + 1 : 0;
      if (back > 0 && back <= n) i = static_cast<std::int64_t>(n - back);
    }
    keep = 0;
    for (auto i : indices) {
      if (i < 0) keep = std::max(keep, static_cast<std::uint64_t>(-(i + 1)) + 1);
    }
    keep = std::min<std::uint64_t>(keep, 1);  // out of range anyway: reported below
  }
  const auto opened = open_recording(path);
  recording_reader& reader = *opened;
  picked_samples out;
  out.header = reader.header();
  out.samples.resize(indices.size());
  std::vector<bool> found(indices.size(), false);
  std::deque<sample> tail;  // the last `keep` samples, for negative indices
  sample s;
  while (reader.next(s)) {
    for (std::size_t k = 0; k < indices.size(); ++k) {
      if (indices[k] >= 0 && static_cast<std::uint64_t>(indices[k]) == out.count) {
        out.samples[k] = s;
        found[k] = true;
      }
    }
    if (keep > 0) {
      tail.push_back(std::move(s));
      if (tail.size() > keep) tail.pop_front();
    }
    s = {};
    ++out.count;
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

}  // namespace gprofid::cli
