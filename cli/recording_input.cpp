#include "cli/recording_input.hpp"

#include <charconv>
#include <cstdio>
#include <deque>
#include <stdexcept>

#include "cli/exit_status.hpp"
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
  for (const auto& w : warnings) std::fprintf(stderr, "gprof-id: warning: %s\n", w.c_str());
}

picked_sample pick_sample(const std::string& path, std::int64_t index) {
  recording_reader reader(path);
  picked_sample out;
  out.header = reader.header();
  std::deque<sample> tail;  // the last |index| samples, for a negative index
  sample s;
  bool found = false;
  while (reader.next(s)) {
    if (index >= 0) {
      if (static_cast<std::int64_t>(out.count) == index) {
        out.s = std::move(s);
        s = {};
        found = true;
      }
    } else {
      tail.push_back(std::move(s));
      s = {};
      if (static_cast<std::int64_t>(tail.size()) > -index) tail.pop_front();
    }
    ++out.count;
  }
  print_warnings(reader.warnings());
  if (index < 0 && static_cast<std::int64_t>(tail.size()) == -index) {
    out.s = std::move(tail.front());
    found = true;
  }
  if (!found) {
    throw std::out_of_range(path + ": no sample " + std::to_string(index) + " (the recording has " +
                            std::to_string(out.count) + " samples)");
  }
  out.tables = reader.tables();
  return out;
}

int with_recording_errors(const std::function<int()>& body) {
  try {
    return body();
  } catch (const recording_error& e) {
    std::fprintf(stderr, "gprof-id: %s\n", e.what());
    return exit_bad_input;
  } catch (const std::out_of_range& e) {
    std::fprintf(stderr, "gprof-id: %s\n", e.what());
    return exit_bad_input;
  }
}

}  // namespace gprofid::cli
