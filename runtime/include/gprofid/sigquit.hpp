// Go's SIGQUIT behaviour for a runtime: on SIGQUIT, write every goroutine's stack (the debug=2
// dump) to a file descriptor, then keep running, or exit with status 2 as Go does.
#pragma once

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include "gprofid/runtime.hpp"

namespace gprofid {

struct sigquit_options {
  int fd = STDERR_FILENO;        // where dumps go; not owned, must outlive the service
  bool exit_after_dump = false;  // true: _exit(exit_status) after the dump, like Go
  int exit_status = 2;
};

// A runtime_service: rt.add_service(std::make_unique<sigquit_dumper>()). While started it owns
// the process's SIGQUIT disposition (restored on stop), so only one may be active at a time.
// The signal handler only writes a byte to a pipe; a dedicated thread, which keeps SIGQUIT
// unblocked, takes the snapshot and writes the dump. Signal masks of other threads do not
// matter, so the service can be added at any time.
class sigquit_dumper final : public runtime_service {
 public:
  explicit sigquit_dumper(sigquit_options options = {});
  ~sigquit_dumper() override;
  sigquit_dumper(const sigquit_dumper&) = delete;
  sigquit_dumper& operator=(const sigquit_dumper&) = delete;

  // Throws std::logic_error if another dumper is active, std::system_error on OS failure.
  void start(runtime& rt) override;
  // Restores the previous SIGQUIT disposition and joins the thread; idempotent, never blocks on
  // a signal that does not come.
  void stop() override;

  // Dumps completely written so far.
  std::uint64_t dumps() const noexcept { return dumps_.load(std::memory_order_acquire); }

 private:
  void run() noexcept;
  void dump() noexcept;
  void close_fds() noexcept;

  sigquit_options options_;
  runtime* rt_ = nullptr;
  int signal_read_ = -1;  // the handler writes a byte to the other end per SIGQUIT
  int signal_write_ = -1;
  int stop_fd_ = -1;  // eventfd that wakes the thread for stop()
  struct sigaction previous_ {};
  std::thread thread_;
  std::atomic<std::uint64_t> dumps_{0};
};

}  // namespace gprofid
