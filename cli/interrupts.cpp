#include "cli/interrupts.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace gprofid::cli {
namespace {

sigset_t interrupt_set() {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGINT);
  sigaddset(&s, SIGTERM);
  return s;
}

}  // namespace

static_assert(sizeof(sigset_t) <= 128);

interrupts::interrupts() {
  const sigset_t s = interrupt_set();
  sigset_t old;
  if (int err = ::pthread_sigmask(SIG_BLOCK, &s, &old); err != 0) {
    throw std::system_error(err, std::generic_category(), "pthread_sigmask");
  }
  std::memcpy(old_mask_, &old, sizeof old);
  fd_ = ::signalfd(-1, &s, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd_ < 0) {
    const int err = errno;
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    throw std::system_error(err, std::generic_category(), "signalfd");
  }
}

interrupts::~interrupts() {
  ::close(fd_);
  sigset_t old;
  std::memcpy(&old, old_mask_, sizeof old);
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

std::optional<int> interrupts::take() {
  signalfd_siginfo info;
  const ssize_t n = ::read(fd_, &info, sizeof info);
  if (n != sizeof info) return std::nullopt;
  return static_cast<int>(info.ssi_signo);
}

std::optional<int> interrupts::wait(int timeout_ms) {
  pollfd p{fd_, POLLIN, 0};
  int r;
  do {
    r = ::poll(&p, 1, timeout_ms);
  } while (r < 0 && errno == EINTR);
  return r > 0 ? take() : std::nullopt;
}

}  // namespace gprofid::cli
