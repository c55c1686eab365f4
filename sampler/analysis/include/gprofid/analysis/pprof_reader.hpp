// Reads back a goroutine profile in the layout gprof-id writes (gprof-id export --format pprof,
// and the HTTP service's /debug/pprof/goroutine, docs/export.md): gzip-compressed profile.proto,
// one pprof sample per goroutine, labelled goid, parent_goid, state, wait_reason, wait_ns, gopc
// and the goroutine's own labels. So two profiles scraped from one program at different times
// can be diffed, joined by goid. A profile carries no counters (resumes, running and runnable
// time) and no wait-for graph: those read as 0 and empty.
#pragma once

#include <string>
#include <string_view>

#include "gprofid/recording/recording_format.hpp"
#include "gprofid/recording/sample.hpp"

namespace gprofid {

struct pprof_goroutines {
  // pid 0 (a profile does not say); start_unix_ns: the profile's time less the sample's time
  // since the start (the "gprof-id sample N at +Tns" comment): the process's start, as its wall
  // clock told it at that profile (so within microseconds for every profile of one process, more
  // if the clock was stepped in between); 0 when the profile has no time; command_line: the
  // second comment.
  recording_header header;
  std::string program;  // the mapping's file name: the program the profile is of
  symbol_tables tables;
  sample s;  // seq and time_ns from the comment
};

// Whether `path` starts with the gzip magic (1f 8b) or is named like a profile (.pb.gz, .pb,
// .pprof): what `gprof-id diff` reads as a pprof profile rather than a recording.
bool looks_like_pprof(const std::string& path);

// Reads the profile at `path`. Throws recording_error(path, 0, ...) with one line for what is
// wrong: not gzip, corrupt gzip, not a profile, not a goroutine profile, a sample without a goid
// label (Go's own goroutine profiles have none), a goid twice, a label value it does not know.
pprof_goroutines read_pprof_goroutines(const std::string& path);
// The same from the file's bytes; `name` is used in messages.
pprof_goroutines parse_pprof_goroutines(std::string_view gzipped, const std::string& name);

}  // namespace gprofid
