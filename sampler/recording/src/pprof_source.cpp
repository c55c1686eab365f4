#include "gprofid/recording/pprof_source.hpp"

namespace gprofid {

pprof_source pprof_source_of(const recording_header& h) {
  pprof_source source{.start_unix_ns = h.start_unix_ns};
  source.program = h.command_line.empty() ? h.workload : h.command_line.front();
  for (const std::string& word : h.command_line) {
    if (!source.command_line.empty()) source.command_line += ' ';
    source.command_line += word;
  }
  return source;
}

}  // namespace gprofid
