#include "gprofid/sigquit.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>

#include <cerrno>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <system_error>

#include "gprofid/traceback.hpp"

namespace gprofid {
namespace {

// A signal handler can only reach process-wide state, so the pipe it writes to lives here. It is
// written only by start()/stop() of the single active dumper (guarded by `claimed`).
std::atomic<bool> claimed{false};
std::atomic<int> handler_fd{-1};
std::atomic<int> handlers_running{0};
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs lock-free atomics");

extern "C" void on_sigquit(int) {
  const int saved_errno = errno;
  handlers_running.fetch_add(1);
  const int fd = handler_fd.load();
  if (fd >= 0) {
    const char byte = 'q';
    // Non-blocking: if the pipe is full a dump is pending anyway.
    [[maybe_unused]] auto n = ::write(fd, &byte, 1);
  }
  handlers_running.fetch_sub(1);
  errno = saved_errno;
}

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

void write_all(int fd, const std::string& text) noexcept {
  std::size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    off += static_cast<std::size_t>(n);
  }
}

}  // namespace

sigquit_dumper::sigquit_dumper(sigquit_options options) : options_(options) {}

sigquit_dumper::~sigquit_dumper() {
  stop();
}

void sigquit_dumper::start(runtime& rt) {
  if (thread_.joinable()) throw std::logic_error("gprofid::sigquit_dumper started twice");
  bool expected = false;
  if (!claimed.compare_exchange_strong(expected, true)) {
    throw std::logic_error("gprofid::sigquit_dumper: another dumper already handles SIGQUIT");
  }
  rt_ = &rt;
  try {
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) throw_errno("sigquit_dumper: pipe2");
    signal_read_ = fds[0];
    signal_write_ = fds[1];
    stop_fd_ = ::eventfd(0, EFD_CLOEXEC);
    if (stop_fd_ < 0) throw_errno("sigquit_dumper: eventfd");

    handler_fd.store(signal_write_);
    struct sigaction sa {};
    sa.sa_handler = on_sigquit;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (::sigaction(SIGQUIT, &sa, &previous_) != 0) throw_errno("sigquit_dumper: sigaction");

    // The thread starts with every signal blocked (so it steals no other signal from the
    // program) and then unblocks SIGQUIT, so the signal always has somewhere to land.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    try {
      thread_ = std::thread([this] { run(); });
    } catch (...) {
      pthread_sigmask(SIG_SETMASK, &old, nullptr);
      ::sigaction(SIGQUIT, &previous_, nullptr);
      throw;
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  } catch (...) {
    handler_fd.store(-1);
    close_fds();
    claimed.store(false);
    throw;
  }
}

void sigquit_dumper::stop() {
  if (!thread_.joinable()) return;
  ::sigaction(SIGQUIT, &previous_, nullptr);
  // A handler already running on another thread may still write to the pipe: wait for it
  // before closing. Sequentially consistent: it either sees -1 or is counted.
  handler_fd.store(-1);
  while (handlers_running.load() != 0) std::this_thread::yield();
  const std::uint64_t one = 1;
  while (::write(stop_fd_, &one, sizeof one) < 0 && errno == EINTR) {
  }
  thread_.join();
  close_fds();
  rt_ = nullptr;
  claimed.store(false);
}

void sigquit_dumper::close_fds() noexcept {
  for (int* fd : {&signal_read_, &signal_write_, &stop_fd_}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
}

void sigquit_dumper::run() noexcept {
  sigset_t quit;
  sigemptyset(&quit);
  sigaddset(&quit, SIGQUIT);
  pthread_sigmask(SIG_UNBLOCK, &quit, nullptr);
  for (;;) {
    pollfd fds[2] = {{stop_fd_, POLLIN, 0}, {signal_read_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;  // the handler may run on this very thread
      return;
    }
    if (fds[0].revents != 0) return;
    if (fds[1].revents & POLLIN) {
      // Signals that arrived together make one dump, as the kernel coalesces them anyway.
      char buf[64];
      while (::read(signal_read_, buf, sizeof buf) > 0) {
      }
      dump();
    }
  }
}

void sigquit_dumper::dump() noexcept {
  try {
    std::string text = "SIGQUIT: goroutine dump\n\n" + format_snapshot(rt_->take_snapshot());
    write_all(options_.fd, text);
  } catch (const std::exception& e) {
    write_all(options_.fd, std::string("SIGQUIT: dump failed: ") + e.what() + "\n");
  }
  dumps_.fetch_add(1, std::memory_order_acq_rel);
  if (options_.exit_after_dump) ::_exit(options_.exit_status);
}

}  // namespace gprofid
