#include "gprofid/traceback.hpp"

#include <cstdio>

#include "gprofid/detail/function_name.hpp"
#include "gprofid/traceback_text.hpp"

namespace gprofid {

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
    out += format_created_by(display_function_name(r.site.location.function_name()),
                             r.site.location.file_name(), r.site.location.line(), r.parent_id);
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
