// What a waiting goroutine can be parked on, as the wait-for graph of a snapshot names it
// (docs/wait-graph.md). Shared by the runtime, recordings and the analysis.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace gprofid {

enum class wait_object_kind : std::uint8_t {
  none,
  channel,
  mutex,
  wait_group,
  event,
  select,  // the case set of one select: its channels (and nil cases)
  timer,   // a sleep's deadline, or the pending timer of a timer channel (after, ticker)
  fd,      // one direction (read or write) of a descriptor in the I/O poller
};

// One object of a snapshot's wait-for graph and its state, read while a goroutine waiting on it
// was parked (docs/wait-graph.md). Plain data: the runtime fills it, recordings store it, the
// analysis reasons on it. Fields that do not apply to the kind stay at their defaults.
struct wait_object {
  std::uint64_t id = 0;  // the object's address: the same across samples while it lives
  wait_object_kind kind = wait_object_kind::none;

  // channel
  std::uint64_t capacity = 0;
  std::uint64_t count = 0;  // values buffered
  bool closed = false;
  std::uint32_t senders = 0;    // parked senders (selects included)
  std::uint32_t receivers = 0;  // parked receivers (selects included)
  std::uint32_t handles = 0;    // chan<T> handles alive, wherever they are
  // One entry per handle found inside the frames of a goroutine parked on a graph object for
  // the whole snapshot: that goroutine's id. Handles not listed are held elsewhere (the heap, a
  // timer, another thread, a goroutine that is running or sleeping, ...).
  std::vector<std::uint64_t> held_by{};

  // mutex
  bool locked = false;
  std::uint64_t owner = 0;             // holding goroutine, 0 if unlocked or unknown
  std::vector<std::uint64_t> queue{};  // waiting goroutines, first to be served first
  // Where the owner took it, in a recording: 1 + the index in its frames table of the owner's
  // lock() line (function, file, line); 0 unknown. The runtime's snapshot has it as lock_sites.
  std::uint32_t locked_at = 0;

  // wait_group
  std::int64_t counter = 0;
  std::uint32_t waiters = 0;

  // event
  bool set = false;

  // select: the distinct channels of its cases, those of them it sends on (sorted), and how
  // many cases are on nil channels (never ready)
  std::vector<std::uint64_t> cases{};
  std::vector<std::uint64_t> send_cases{};
  std::uint32_t nil_cases = 0;

  // channel: the pending timer that sends on it (after(), ticker), the id of its timer object;
  // 0 when none. Such a channel can always be woken (docs/wait-graph.md, "Leaks by proof").
  std::uint64_t timer = 0;

  // timer: when it fires, on the runtime's timer clock (the monotonic clock unless the runtime's
  // clock is manual): absolute in a runtime snapshot, relative to the recording's start in a
  // sample, like t_ns. period_ns: a ticker's period, 0 for a one-shot timer.
  std::int64_t when_ns = 0;
  std::int64_t period_ns = 0;

  // fd: the descriptor number and the direction its waiters wait for
  std::int32_t fd = 0;
  bool write = false;  // false: readable, true: writable

  friend bool operator==(const wait_object&, const wait_object&) = default;
};

// Kinds added after the first readers of the graph, which reject a kind they do not know:
// recordings store objects of these apart (v1 `more_objects`, v2 sample field 2), where those
// readers skip them (docs/recording-format.md).
constexpr bool is_extension_kind(wait_object_kind k) noexcept {
  return k >= wait_object_kind::timer;
}

// "channel", "mutex", "wait_group", "event", "select", "timer", "fd".
std::string_view to_string(wait_object_kind k) noexcept;
std::optional<wait_object_kind> parse_wait_object_kind(std::string_view s) noexcept;

}  // namespace gprofid
