// Recording a program from the outside: when `gprof-id record -- PROGRAM` starts a program
// linked with gprofid::gprofid, the program's first runtime finds GPROFID_RECORD_FD (and
// GPROFID_INTERVAL_NS, GPROFID_MAX_SAMPLES, GPROFID_DURATION_NS, GPROFID_RECORD_FORMAT) in its
// environment and records itself to that descriptor, through the runtime's weak
// gprofid_runtime_started hook.
// The same hook starts the debug service (debug_service.hpp) when GPROFID_DEBUG_SOCKET=1, and
// its HTTP form (debug_http_host.hpp) when GPROFID_DEBUG_HTTP is set: on the transport the
// program links (gprofid::gprofid_http), or else on the plugin libgprofid_http_plugin.so.
#pragma once

#include <cstdint>
#include <optional>

#include "gprofid/recording/recording_writer.hpp"

namespace gprofid {

class runtime;

// What the environment asks for.
struct auto_record_settings {
  int fd = -1;
  std::int64_t interval_ns = 100'000'000;
  std::uint64_t max_samples = 0;
  std::int64_t max_duration_ns = 0;
  recording_encoding format = recording_encoding::jsonl;
};

// The settings in the environment, or nullopt when GPROFID_RECORD_FD is not set. Malformed
// values are reported on stderr and give nullopt (the program then runs unrecorded).
std::optional<auto_record_settings> auto_record_settings_from_env();

// Starts recording `rt` as `s` asks, as a service of `rt` (stopped, with the end line written,
// when rt.run() returns or rt is destroyed).
void start_auto_record(runtime& rt, const auto_record_settings& s);

}  // namespace gprofid

// The hook the runtime calls from its constructor (see runtime/runtime.cpp): records the first
// runtime of the process, and serves its debug socket, when the environment asks for it.
extern "C" void gprofid_runtime_started(gprofid::runtime* rt);
