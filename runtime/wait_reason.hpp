// Why a goroutine is waiting: a fixed vocabulary modelled on Go's waitReason strings, so that
// dumps read like Go's tracebacks and recordings stay comparable across versions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace gprofid {

enum class wait_reason : std::uint8_t {
  none,
  chan_receive,
  chan_send,
  chan_receive_nil,
  chan_send_nil,
  select,
  select_no_cases,
  sleep,
  mutex_lock,
  wait_group,
  event,
  io_wait,
  yield,
};

// The Go spelling ("chan receive", "select (no cases)", ...).
std::string_view to_string(wait_reason r) noexcept;
std::optional<wait_reason> parse_wait_reason(std::string_view s) noexcept;

// Scheduling state of a goroutine as seen by a snapshot.
enum class goroutine_state : std::uint8_t { runnable, running, waiting, dead };

std::string_view to_string(goroutine_state s) noexcept;
std::optional<goroutine_state> parse_goroutine_state(std::string_view s) noexcept;

}  // namespace gprofid
