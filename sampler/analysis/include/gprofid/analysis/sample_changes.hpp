// One sample of a recording as what changed since the previous one: the form a reader produces
// at the cost of the changes (recording_reader::next_changes), for consumers whose work should
// follow what changed rather than how many goroutines are alive (the summary).
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <vector>

#include "gprofid/recording/sample.hpp"

namespace gprofid {

// A goroutine is unchanged from one sample to the next when every field is the same but
// wait_ns, which is what the recording format v2 predicts (predicted_wait): the previous wait
// plus the time between the two samples while it waits in both, else 0. An unchanged goroutine
// is in none of the lists.
struct sample_changes {
  std::uint64_t seq = 0;
  std::int64_t time_ns = 0;
  std::int64_t duration_ns = 0;
  std::int64_t pause_ns = 0;
  std::uint64_t alive = 0;    // goroutines in the sample
  std::uint64_t objects = 0;  // wait objects in the sample's wait-for graph
  bool first = false;         // the first sample: every goroutine is in `created`
  // A piece of a first sample (recording_reader::set_piece_size): the next one continues it
  // with the goroutines created after these; alive and objects are 0 until the last piece.
  bool more = false;
  std::vector<goroutine_sample> created;         // sorted by id, as in this sample
  std::vector<goroutine_sample> exited;          // sorted by id, as in the previous sample
  std::vector<goroutine_sample> changed_before;  // sorted by id, as in the previous sample
  std::vector<goroutine_sample> changed_after;   // the same goroutines, as in this sample

  void clear() noexcept;
  // The most goroutines any one list holds.
  std::size_t largest() const noexcept;
  // Gives back the memory of every list that could hold more than `n` goroutines (after one
  // huge sample, a first keyframe, its lists' capacity is not kept for the rest of a read).
  void release_beyond(std::size_t n) noexcept;
};

// What the v2 format predicts wait_ns to be in a sample `dt` after one where it was
// `wait_before` (computed modulo 2^64, as the format's deltas are).
std::int64_t predicted_wait(goroutine_state before, std::int64_t wait_before, goroutine_state now,
                            std::int64_t dt) noexcept;

// Whether `after` is `before` unchanged, `dt` later (see sample_changes).
bool unchanged(const goroutine_sample& before, const goroutine_sample& after,
               std::int64_t dt) noexcept;

// Fills `out`'s lists with what changed from `before` (at before_ns) to `after` (at `after_ns`),
// both sorted by id; the header fields are the caller's. `after` is any random-access range of
// goroutine_sample (a reader passes a view of its own state rather than a copy of it).
template <class After>
void changes_between(const std::vector<goroutine_sample>& before, std::int64_t before_ns,
                     const After& after, std::int64_t after_ns, sample_changes& out) {
  out.clear();
  const auto dt = static_cast<std::int64_t>(static_cast<std::uint64_t>(after_ns) -
                                            static_cast<std::uint64_t>(before_ns));
  const std::size_t n = std::size(after);
  std::size_t i = 0, j = 0;
  while (i < before.size() || j < n) {
    if (j == n || (i < before.size() && before[i].id < after[j].id)) {
      out.exited.push_back(before[i++]);
    } else if (i == before.size() || after[j].id < before[i].id) {
      out.created.push_back(after[j++]);
    } else {
      if (!unchanged(before[i], after[j], dt)) {
        out.changed_before.push_back(before[i]);
        out.changed_after.push_back(after[j]);
      }
      ++i;
      ++j;
    }
  }
}

}  // namespace gprofid
