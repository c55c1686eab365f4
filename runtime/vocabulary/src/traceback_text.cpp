#include "gprofid/traceback_text.hpp"

#include <cstdio>

namespace gprofid {

std::string format_duration(std::int64_t ns) {
  char buf[64];
  if (ns < 0) ns = 0;
  // Each unit is used only below the value that would round up to the next one.
  if (ns < 1'000) {
    std::snprintf(buf, sizeof buf, "%lldns", static_cast<long long>(ns));
  } else if (ns < 999'500) {
    std::snprintf(buf, sizeof buf, "%.0fus", ns / 1e3);
  } else if (ns < 999'500'000) {
    std::snprintf(buf, sizeof buf, "%.0fms", ns / 1e6);
  } else if (ns < 59'950'000'000LL) {
    std::snprintf(buf, sizeof buf, "%.1fs", ns / 1e9);
  } else {
    // Nearest second, without overflowing near INT64_MAX (a recording can hold any time).
    long long s = ns / 1'000'000'000LL + (ns % 1'000'000'000LL >= 500'000'000LL ? 1 : 0);
    if (s < 3600) {
      std::snprintf(buf, sizeof buf, "%lldm%llds", s / 60, s % 60);
    } else {
      std::snprintf(buf, sizeof buf, "%lldh%lldm", s / 3600, (s / 60) % 60);
    }
  }
  return buf;
}

std::string format_created_by(std::string_view function, std::string_view file, std::uint32_t line,
                              std::uint64_t parent_id, std::string_view indent) {
  std::string out(indent);
  out += "created by ";
  out += function;
  if (parent_id != 0) out += " in goroutine " + std::to_string(parent_id);
  out += '\n';
  out += indent;
  out += '\t';
  out += file;
  out += ':' + std::to_string(line) + '\n';
  return out;
}

}  // namespace gprofid
