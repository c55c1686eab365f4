// Every environment variable gprof-id reads or sets, in one table: the runtime reads
// GPROFID_WORKERS and GPROFID_SELECT_SEED, `gprof-id record` sets the GPROFID_RECORD_* family for
// the program it starts, and the in-process recorder reads it; GPROFID_DEBUG_SOCKET starts the
// debug service, GPROFID_DEBUG_HTTP its HTTP form. docs/recording.md, docs/attach.md and
// docs/fleet.md document them.
#pragma once

#include <array>
#include <string_view>

namespace gprofid::environment {

// Worker threads of a runtime whose options leave workers at 0 (1..1024).
inline constexpr std::string_view workers = "GPROFID_WORKERS";
// Seeds select's random choice among ready cases when runtime_options::select_seed is 0
// (a non-zero integer; with one worker, the same seed replays the same choices).
inline constexpr std::string_view select_seed = "GPROFID_SELECT_SEED";
// The descriptor on which the recorded program streams its recording to `gprof-id record`.
inline constexpr std::string_view record_fd = "GPROFID_RECORD_FD";
// Sampling interval of the in-process recorder, in nanoseconds.
inline constexpr std::string_view interval_ns = "GPROFID_INTERVAL_NS";
// Stop after this many samples (0: no limit).
inline constexpr std::string_view max_samples = "GPROFID_MAX_SAMPLES";
// Stop after this long, in nanoseconds (0: no limit).
inline constexpr std::string_view duration_ns = "GPROFID_DURATION_NS";
// The recording format to stream: "v2" (binary) or "jsonl" (v1, the default when unset).
inline constexpr std::string_view record_format = "GPROFID_RECORD_FORMAT";

// 1: serve snapshots and recordings on a Unix domain socket (docs/attach.md).
inline constexpr std::string_view debug_socket = "GPROFID_DEBUG_SOCKET";

// ADDR:PORT (or PORT, on 127.0.0.1): serve Go's /debug/pprof/goroutine and our snapshot over
// HTTP, through the plugin libgprofid_http_plugin.so or gprofid::gprofid_http (docs/fleet.md).
inline constexpr std::string_view debug_http = "GPROFID_DEBUG_HTTP";

inline constexpr std::array all = {workers,       select_seed,  record_fd,
                                   interval_ns,   max_samples,  duration_ns,
                                   record_format, debug_socket, debug_http};

}  // namespace gprofid::environment
