// Recording format v1 (JSON Lines, docs/recording-format.md): its name, version, line types,
// and the header and end records that frame the samples.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gprofid/version.hpp"

namespace gprofid {

namespace recording_format {
inline constexpr std::string_view name = "gprof-id-recording";
inline constexpr int version = 1;  // the newest version this build reads and the one it writes
inline constexpr std::string_view runtime_version = version_string;

// The "type" of each line.
namespace line {
inline constexpr std::string_view header = "header";
inline constexpr std::string_view site = "site";
inline constexpr std::string_view frame = "frame";
inline constexpr std::string_view stack = "stack";
inline constexpr std::string_view sample = "sample";
inline constexpr std::string_view end = "end";
}  // namespace line
}  // namespace recording_format

// The first line of a recording: what was recorded, when, and how.
struct recording_header {
  int version = recording_format::version;
  std::string workload;                   // workload name or program, "" if unknown
  std::vector<std::string> command_line;  // argv of the recorded program, may be empty
  std::int64_t pid = 0;
  std::int64_t interval_ns = 0;
  std::string start_wall;               // RFC 3339, UTC, nanoseconds: the zero of every t_ns
  std::int64_t start_unix_ns = 0;       // the same instant as unix time
  std::int64_t start_monotonic_ns = 0;  // the same instant on the recorded process's clock
  std::int64_t workers = 0;
  std::string runtime_version = std::string(recording_format::runtime_version);

  friend bool operator==(const recording_header&, const recording_header&) = default;
};

// Why a recording ended.
enum class end_reason : std::uint8_t {
  completed,        // the recorded program's main returned / recording stopped normally
  duration,         // the requested duration elapsed
  samples,          // the requested number of samples was taken
  interrupted,      // SIGINT/SIGTERM to the recorder
  workload_exited,  // the recorded program exited before the recorder was done
  workload_killed,  // the recorded program died of a signal
  error,            // the recorder failed (e.g. could not write)
};

inline constexpr std::array<std::string_view, 7> end_reason_names = {
    "completed",       "duration",        "samples", "interrupted",
    "workload-exited", "workload-killed", "error"};

static_assert(end_reason_names.size() == static_cast<std::size_t>(end_reason::error) + 1,
              "one name per end_reason, in order");

inline std::string_view to_string(end_reason r) noexcept {
  return end_reason_names[static_cast<std::size_t>(r)];
}

inline std::optional<end_reason> parse_end_reason(std::string_view s) noexcept {
  for (std::size_t i = 0; i < end_reason_names.size(); ++i) {
    if (end_reason_names[i] == s) return static_cast<end_reason>(i);
  }
  return std::nullopt;
}

// The last line of a complete recording.
struct recording_end {
  std::uint64_t samples = 0;
  end_reason reason = end_reason::completed;
  std::optional<int> exit_status;  // of the recorded program, when known
  std::optional<int> signal;       // that killed it, when it was killed

  friend bool operator==(const recording_end&, const recording_end&) = default;
};

// What a reader warns of when a complete recording's end says the program did not end well
// (killed, failed, or the recorder failed), or nothing. Both readers (v1 and v2) say it alike.
inline std::optional<std::string> ended_badly(const recording_end& e) {
  const std::string tail = "; the recording ends at its last sample";
  switch (e.reason) {
    case end_reason::workload_killed:
      return "the recorded program was killed" +
             (e.signal ? " by signal " + std::to_string(*e.signal) : std::string()) + tail;
    case end_reason::workload_exited:
      return "the recorded program failed" +
             (e.exit_status ? " (exit status " + std::to_string(*e.exit_status) + ")"
                            : std::string()) +
             tail;
    case end_reason::error:
      return "the recorder failed" + tail;
    default:
      return std::nullopt;
  }
}

}  // namespace gprofid
