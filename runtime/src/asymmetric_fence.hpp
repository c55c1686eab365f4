// A fence pair for a hot side that runs often and a cold side that runs rarely (as
// folly::asymmetricLightBarrier/HeavyBarrier): light_fence() costs the hot side nothing but a
// compiler barrier where the kernel's membarrier(2) can make the cold side's heavy_fence() act
// as a full fence on every thread of the process at once; elsewhere both are full fences.
//
// Used by change tracking (docs/snapshot.md, "Incremental snapshots"): a worker changes a
// goroutine's state, light_fence(), then reads whether it is listed; a delta takes it off its
// list, heavy_fence(), then reads its state. Either the worker sees it unlisted (and lists it),
// or the delta sees the new state.
#pragma once

#include <atomic>

namespace gprofid::detail {

// Set once membarrier's private expedited command is registered for this process.
extern std::atomic<bool> membarrier_ready;

inline void light_fence() noexcept {
  if (membarrier_ready.load(std::memory_order_relaxed)) {
    std::atomic_signal_fence(std::memory_order_seq_cst);
  } else {
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
}

void heavy_fence() noexcept;
// Registers this process for membarrier (once; later calls do nothing).
void prepare_heavy_fence() noexcept;

}  // namespace gprofid::detail
