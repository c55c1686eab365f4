// Go-style text dumps of goroutines (the shape of debug=2 tracebacks), used for SIGQUIT, for
// escaped exceptions and by the CLI.
#pragma once

#include <cstdint>
#include <string>

#include "gprofid/snapshot.hpp"

namespace gprofid {

// "2.5s", "3m10s", "140ms": how long something has been so.
std::string format_duration(std::int64_t ns);

// One frame per two lines: "f(int)\n\t/path/file.cpp:12\n".
std::string format_stack(const stack_trace& stack);

// "goroutine 18 [chan receive, 3s]:\n" + labels + frames + "created by F in goroutine 1\n\t...".
std::string format_goroutine(const snapshot& snap, const goroutine_record& r);

// Every goroutine of the snapshot, blank-line separated, like Go's debug=2 output.
std::string format_snapshot(const snapshot& snap);

}  // namespace gprofid
