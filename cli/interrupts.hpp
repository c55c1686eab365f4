// SIGINT and SIGTERM while recording: blocked in every thread (so no handler runs at a random
// point) and read from a signalfd by whoever waits, turning Ctrl-C into "stop and write the end".
#pragma once

#include <optional>

namespace gprofid::cli {

class interrupts {
 public:
  // Blocks SIGINT and SIGTERM in the calling thread; threads started afterwards inherit it.
  interrupts();
  // Restores the previous signal mask.
  ~interrupts();
  interrupts(const interrupts&) = delete;
  interrupts& operator=(const interrupts&) = delete;

  // Readable when a signal is pending, for poll().
  int fd() const noexcept { return fd_; }
  // The pending signal, if any, consumed. Never blocks.
  std::optional<int> take();
  // Waits up to `timeout_ms` for a signal.
  std::optional<int> wait(int timeout_ms);

 private:
  int fd_ = -1;
  unsigned char old_mask_[128];  // sigset_t, kept opaque to spare includers <signal.h>
};

}  // namespace gprofid::cli
