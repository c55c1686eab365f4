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

#if defined(__SANITIZE_THREAD__)
// ThreadSanitizer models neither fences (GCC warns: -Wtsan) nor membarrier. Under it both sides
// are a seq_cst read-modify-write of one shared word instead: whichever comes second in that
// word's order reads from the first, so the two are ordered as the fence pair orders them, and
// TSan sees the synchronisation.
inline std::atomic<unsigned> tsan_fence_word{0};
inline void full_fence() noexcept {
  tsan_fence_word.fetch_add(0, std::memory_order_seq_cst);
}
inline void light_fence() noexcept {
  full_fence();
}
#else
inline void full_fence() noexcept {
  std::atomic_thread_fence(std::memory_order_seq_cst);
}
inline void light_fence() noexcept {
  if (membarrier_ready.load(std::memory_order_relaxed)) {
    std::atomic_signal_fence(std::memory_order_seq_cst);
  } else {
    full_fence();
  }
}
#endif

void heavy_fence() noexcept;
// Registers this process for membarrier (once; later calls do nothing).
void prepare_heavy_fence() noexcept;

}  // namespace gprofid::detail
