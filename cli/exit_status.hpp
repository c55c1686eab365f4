// gprof-id's exit statuses, documented in docs/exit-codes.md. Scripts depend on them.
#pragma once

namespace gprofid::cli {

enum exit_status : int {
  exit_ok = 0,
  exit_failure = 1,          // an operation failed for a reason not listed below
  exit_usage = 2,            // bad command line: unknown flag, bad duration, unknown workload
  exit_bad_input = 3,        // an input recording is malformed, of a newer version, or missing
  exit_io_error = 4,         // cannot write the output (exists, unwritable, disk full)
  exit_workload_failed = 5,  // the recorded program exited non-zero or was killed by a signal
  exit_no_samples = 6,  // the recorded program never sent a sample (not linked with the runtime)
};

}  // namespace gprofid::cli
