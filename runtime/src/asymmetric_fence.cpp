#include "asymmetric_fence.hpp"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <mutex>

namespace gprofid::detail {

std::atomic<bool> membarrier_ready{false};

namespace {
long membarrier(int cmd) noexcept {
  return syscall(__NR_membarrier, cmd, 0, 0);
}
}  // namespace

void prepare_heavy_fence() noexcept {
  static std::once_flag once;
  std::call_once(once, [] {
    const long supported = membarrier(MEMBARRIER_CMD_QUERY);
    if (supported < 0 || (supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return;
    if (membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) != 0) return;
    membarrier_ready.store(true, std::memory_order_seq_cst);
  });
}

void heavy_fence() noexcept {
#if !defined(__SANITIZE_THREAD__)  // there the light side always makes a full fence
  // A light side that read membarrier_ready false made a full fence itself; one that read it
  // true is covered by the barrier the kernel runs on its CPU.
  if (membarrier_ready.load(std::memory_order_seq_cst) &&
      membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) {
    return;
  }
#endif
  full_fence();
}

}  // namespace gprofid::detail
