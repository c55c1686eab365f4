// The sampler's data model: snapshots turned into plain, symbolised values that recordings
// store, readers return, and diff and exporters consume. Strings live once in `symbol_tables`;
// samples refer to them by index, as the recording format does.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gprofid/labels.hpp"
#include "gprofid/wait_object.hpp"
#include "gprofid/wait_reason.hpp"

namespace gprofid {

// A place in the program: a coroutine frame or a spawn site.
struct code_location {
  std::string function;  // display name, e.g. "worker(int, gprofid::chan<int>)"
  std::string file;
  std::uint32_t line = 0;
  std::uint64_t pc = 0;  // raw address, for symbolised exports; 0 when unknown

  friend bool operator==(const code_location&, const code_location&) = default;
};

// Interned strings of a recording. Indices are stable for the life of a recording: tables only
// grow, and a sample refers only to entries defined before it.
struct symbol_tables {
  std::vector<code_location> sites;                // spawn sites
  std::vector<code_location> frames;               // frames: function + suspension line
  std::vector<std::vector<std::uint32_t>> stacks;  // frame indices, innermost first
};

// Where the entries added since some point begin: entries at or past these indices are new.
// Tables only grow, so this is all a writer needs to emit definitions before their first use.
struct table_marks {
  std::uint32_t sites = 0;
  std::uint32_t frames = 0;
  std::uint32_t stacks = 0;

  friend bool operator==(const table_marks&, const table_marks&) = default;
};

// One goroutine as seen in one sample.
struct goroutine_sample {
  std::uint64_t id = 0;
  std::uint64_t parent_id = 0;  // 0: spawned from outside any goroutine
  std::uint32_t site = 0;       // index into symbol_tables::sites
  std::uint32_t stack = 0;      // index into symbol_tables::stacks
  goroutine_state state = goroutine_state::runnable;
  wait_reason reason = wait_reason::none;  // none unless waiting
  std::int64_t created_ns = 0;             // relative to the recording's start
  std::int64_t wait_ns = 0;                // how long it had been waiting at the sample instant
  label_ptr labels{};                      // may be null: no labels
  std::uint64_t resumes = 0;
  std::int64_t running_ns = 0;
  std::int64_t runnable_ns = 0;
  std::uint64_t blocked_on = 0;  // id of the sample's wait object it is parked on, 0 if none

  // Every field equal, labels by value (no labels is not the same as empty labels).
  friend bool operator==(const goroutine_sample&, const goroutine_sample&) noexcept;
};

// One snapshot of every goroutine, as recorded.
struct sample {
  std::uint64_t seq = 0;                     // 0, 1, 2, ... within a recording
  std::int64_t time_ns = 0;                  // snapshot instant, relative to the recording's start
  std::int64_t duration_ns = 0;              // how long taking the snapshot took
  std::int64_t pause_ns = 0;                 // longest time it held up any spawn or exit
  std::vector<goroutine_sample> goroutines;  // sorted by id
  std::vector<wait_object> objects{};        // the wait-for graph, sorted by id

  friend bool operator==(const sample&, const sample&) = default;
};

// What changed from one sample to the next (the periodic sampler's incremental samples,
// docs/snapshot.md "Incremental snapshots"): the next sample is the previous one with `changed`
// put in (created or replaced, by id), `exited` taken out, the blocked_on of the goroutines of
// `waits` set, and the waits of unchanged waiting goroutines longer by the time between the
// two. With `graph`, `objects` is the next sample's wait-for graph (and a goroutine whose
// blocked_on changed is in `changed` or `waits`); without it the graph is the previous sample's.
struct sample_delta {
  std::uint64_t seq = 0;
  std::int64_t time_ns = 0;
  std::int64_t duration_ns = 0;
  std::int64_t pause_ns = 0;
  std::vector<goroutine_sample> changed;  // sorted by id; may hold unchanged ones too
  std::vector<std::uint64_t> exited;      // sorted; ids the previous sample lacks are ignored
  bool graph = false;
  std::vector<wait_object> objects{};  // with `graph`: sorted by id
  // Goroutines not in `changed` (otherwise unchanged) and what they are parked on now, sorted by
  // id; an id the previous sample does not hold is ignored.
  struct wait_edge {
    std::uint64_t id = 0;
    std::uint64_t blocked_on = 0;
  };
  std::vector<wait_edge> waits{};
};

// The goroutine with `id` in a sample (goroutines sorted by id), or null.
const goroutine_sample* find_goroutine(const sample& s, std::uint64_t id) noexcept;
// The wait object with `id` in a sample (objects sorted by id), or null.
const wait_object* find_object(const sample& s, std::uint64_t id) noexcept;

}  // namespace gprofid
