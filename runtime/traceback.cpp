#include "runtime/traceback.hpp"

#include <cstdio>

#include "runtime/function_name.hpp"

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

std::string format_stack(const stack_trace& stack) {
  std::string out;
  for (const auto& f : stack) {
    out += display_function_name(f.function.function_name());
    out += "\n\t";
    out += f.call_site.file_name();
    out += ':';
    out += std::to_string(f.call_site.line());
    out += '\n';
  }
  return out;
}

std::string format_goroutine(const snapshot& snap, const goroutine_record& r) {
  std::string out = "goroutine " + std::to_string(r.id) + " [";
  if (r.state == goroutine_state::waiting) {
    out += to_string(r.reason);
    if (r.wait_since_ns > 0) out += ", " + format_duration(snap.started_ns - r.wait_since_ns);
  } else {
    out += to_string(r.state);
  }
  out += "]:\n";
  if (r.labels && !r.labels->empty()) {
    out += "labels: {";
    bool first = true;
    for (const auto& [k, v] : *r.labels) {
      out += (first ? "" : ", ") + k + "=" + v;
      first = false;
    }
    out += "}\n";
  }
  out += format_stack(snap.stack_of(r));
  if (r.site.location.line() != 0) {
    out += "created by " + display_function_name(r.site.location.function_name());
    if (r.parent_id != 0) out += " in goroutine " + std::to_string(r.parent_id);
    out += "\n\t";
    out += r.site.location.file_name();
    out += ':' + std::to_string(r.site.location.line()) + '\n';
  }
  return out;
}

std::string format_snapshot(const snapshot& snap) {
  std::string out;
  for (const auto& r : snap.goroutines) {
    if (!out.empty()) out += '\n';
    out += format_goroutine(snap, r);
  }
  return out;
}

}  // namespace gprofid
