// GoroutineProfileWithID: a consistent snapshot of every goroutine of a runtime as a `sample`
// whose sites and stacks index the symbolizer's tables (see docs/snapshot.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gprofid/recorder/symbolizer.hpp"
#include "gprofid/recording/id_table.hpp"
#include "gprofid/recording/recording_format.hpp"
#include "gprofid/recording/recording_writer.hpp"
#include "gprofid/recording/sample.hpp"
#include "gprofid/runtime.hpp"
#include "gprofid/snapshot.hpp"

namespace gprofid {

// A snapshot as a sample: goroutines sorted by id, times relative to `origin_ns` (monotonic),
// wait_ns measured at the snapshot instant. seq is left 0 for the caller to number.
sample to_sample(const snapshot& snap, std::int64_t origin_ns, symbolizer& sym);
// The same for the snapshots of a cursor that keeps frames (change_cursor::set_keep_frames):
// `stacks` holds each goroutine's table stack as of the previous snapshot (cleared before a full
// one; exits erased by the caller) and is brought up to this one. A record with frames_kept
// takes its goroutine's stack from it (symbolizer::restack); std::logic_error if it has none.
// The tables grow in the order to_sample(snap) grows them, so a recording is the same either way.
sample to_sample(const snapshot& snap, std::int64_t origin_ns, symbolizer& sym, id_table& stacks);

// Takes rt.take_snapshot() and symbolises it; times are relative to rt.started_ns().
sample goroutine_profile_with_id(runtime& rt, symbolizer& sym);

// A one-off profile that owns its tables.
struct profile {
  sample snapshot;
  symbol_tables tables;
};
profile goroutine_profile_with_id(runtime& rt);

// A header for recording `rt` from inside its process: pid, workers, and the start instant set
// to rt.started_ns() (the zero of every sample time) on both clocks.
recording_header header_for(const runtime& rt, std::int64_t interval_ns);

// header_for(rt, interval_ns) naming this process: its command line, and the workload as its
// first word. What a recording taken from inside a program that gprof-id did not start carries.
recording_header own_header_for(const runtime& rt, std::int64_t interval_ns);

// One snapshot of `rt` as a whole recording (header, definitions, the sample, end line with
// reason samples): what the debug services answer a snapshot request with.
void write_snapshot_recording(runtime& rt, recording_writer& out);

// This process's command line (/proc/self/cmdline), for recording headers; empty if unreadable.
std::vector<std::string> own_command_line();

}  // namespace gprofid
