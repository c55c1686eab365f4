// What a pprof profile says about the recording or program it comes from. Shared by the offline
// export (gprof-id export --format pprof) and the recorder's in-process encoder (served over
// HTTP), which must write the same profile.
#pragma once

#include <cstdint>
#include <string>

#include "gprofid/recording/recording_format.hpp"

namespace gprofid {

struct pprof_source {
  std::int64_t start_unix_ns = 0;  // the recording's start; 0: unknown (the profile is undated)
  std::string program;             // the recorded program's executable, named by the mapping
  std::string command_line;        // how it was run, for the profile's comments; may be empty
};

// The source of a recording's profiles, from its header: the program is the first word of the
// command line (gprof-id itself for a built-in workload), else the workload's name.
pprof_source pprof_source_of(const recording_header& h);

}  // namespace gprofid
