// What a sample's wait-for graph proves (docs/wait-graph.md): mutex deadlock cycles, goroutines
// leaked for good (parked on channels only they can reach), and lost wake-ups (parked on an
// object that is ready for them). Exact on what the runtime recorded; never a heuristic. This is
// also the API for exporters that want the leaked set (e.g. a goroutineleak profile). It is in
// the recording library, next to the data model it reads, because both the offline analysis
// and a recorded program (the HTTP service's /debug/pprof/goroutineleak) use it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gprofid/recording/sample.hpp"

namespace gprofid {

// Goroutines each waiting on a mutex held by the next (the last's is held by the first).
struct deadlock_cycle {
  std::vector<std::uint64_t> goroutines;      // smallest id first, then in wait-for order
  std::vector<std::uint64_t> objects;         // objects[i]: what goroutines[i] waits on
  std::vector<std::uint64_t> blocked_behind;  // waiting (through mutexes) on the cycle; sorted
};

// Why a leaked goroutine can never run again.
enum class leak_rule : std::uint8_t {
  nil_wait,    // blocked on a nil channel, an empty select or a select of nil channels only
  closed_set,  // its channels' every handle is held by goroutines of the leaked set
};

struct leaked_goroutine {
  std::uint64_t id = 0;
  leak_rule rule = leak_rule::closed_set;
  std::vector<std::uint64_t> channels;  // the channels it waits on (none for nil_wait)
  std::uint32_t handles = 0;            // handles to those channels, all held inside the set
};

// A goroutine parked on an object that is ready for it: a runtime bug if it lasts.
struct lost_wakeup {
  std::uint64_t id = 0;
  std::uint64_t object = 0;
  std::string why;  // e.g. "chan receive on a closed channel"
};

struct wait_diagnosis {
  std::vector<deadlock_cycle> deadlocks;  // by smallest goroutine id
  std::vector<leaked_goroutine> leaked;   // by id
  std::vector<lost_wakeup> lost_wakeups;  // by id

  const leaked_goroutine* leak_of(std::uint64_t id) const noexcept;
  // The cycle `id` is part of, or null.
  const deadlock_cycle* cycle_of(std::uint64_t id) const noexcept;
};

wait_diagnosis diagnose(const sample& s);
// A wait on a nil channel (or a select with no cases): never woken, so leaked without any wait
// object. With no such wait and no objects in a sample, diagnose() finds nothing.
bool is_nil_wait(wait_reason r) noexcept;

// The timer a goroutine parked on `o` (an object of `s`) waits for: `o` itself if a timer, the
// timer that sends on a channel, the first to fire of a select's cases; null if none.
const wait_object* pending_timer(const sample& s, const wait_object& o) noexcept;

std::string_view to_string(leak_rule r) noexcept;
// An object id as recordings write it: "0x7f3a2c001040".
std::string object_id_text(std::uint64_t id);

}  // namespace gprofid
