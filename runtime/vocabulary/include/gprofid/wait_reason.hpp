// Why a goroutine is waiting and what state it is in: fixed vocabularies modelled on Go's
// waitReason strings, so that dumps read like Go's tracebacks and recordings stay comparable
// across versions. Each vocabulary is one table; recordings, the diff's filters and the JSON
// schemas in docs/ spell it from there (tests/sampler/analysis/vocabulary_test.cpp checks them).
#pragma once

#include <array>
#include <cstddef>
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
};

struct wait_reason_name {
  wait_reason reason;
  std::string_view go;     // as Go writes it and recordings store it: "sync.Mutex.Lock"
  std::string_view id;     // easier to type in a shell: "mutex_lock"
  std::string_view alias;  // a shorter spelling accepted on command lines, or ""
};

inline constexpr std::array<wait_reason_name, 12> wait_reason_names = {{
    {wait_reason::none, "", "none", ""},
    {wait_reason::chan_receive, "chan receive", "chan_receive", ""},
    {wait_reason::chan_send, "chan send", "chan_send", ""},
    {wait_reason::chan_receive_nil, "chan receive (nil chan)", "chan_receive_nil", ""},
    {wait_reason::chan_send_nil, "chan send (nil chan)", "chan_send_nil", ""},
    {wait_reason::select, "select", "select", ""},
    {wait_reason::select_no_cases, "select (no cases)", "select_no_cases", ""},
    {wait_reason::sleep, "sleep", "sleep", ""},
    {wait_reason::mutex_lock, "sync.Mutex.Lock", "mutex_lock", "mutex"},
    {wait_reason::wait_group, "sync.WaitGroup.Wait", "wait_group", "waitgroup"},
    {wait_reason::event, "event", "event", ""},
    {wait_reason::io_wait, "IO wait", "io_wait", "io"},
}};

// Scheduling state of a goroutine as seen by a snapshot.
enum class goroutine_state : std::uint8_t { runnable, running, waiting, dead };

inline constexpr std::array<std::string_view, 4> goroutine_state_names = {"runnable", "running",
                                                                          "waiting", "dead"};

namespace detail {
template <class Table>
constexpr bool indexed_by_enum(const Table& t) {
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (static_cast<std::size_t>(t[i].reason) != i) return false;
  }
  return true;
}
}  // namespace detail
static_assert(detail::indexed_by_enum(wait_reason_names), "one row per wait_reason, in order");
static_assert(wait_reason_names.size() == static_cast<std::size_t>(wait_reason::io_wait) + 1);
static_assert(goroutine_state_names.size() == static_cast<std::size_t>(goroutine_state::dead) + 1);

// The Go spelling ("chan receive", "select (no cases)", ...).
std::string_view to_string(wait_reason r) noexcept;
// From the Go spelling, as recordings store it.
std::optional<wait_reason> parse_wait_reason(std::string_view s) noexcept;
// From any spelling a user may type: Go's, the id, or the alias.
std::optional<wait_reason> parse_wait_reason_any(std::string_view s) noexcept;

std::string_view to_string(goroutine_state s) noexcept;
std::optional<goroutine_state> parse_goroutine_state(std::string_view s) noexcept;

}  // namespace gprofid
