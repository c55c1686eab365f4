#include "gprofid/detail/poller.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <system_error>
#include <utility>

#include "gprofid/detail/park.hpp"

namespace gprofid {
namespace {

// Tokens of the poller's own descriptors; real tokens have a slot index far below these.
constexpr std::uint64_t wake_token = ~std::uint64_t{0};
constexpr std::uint64_t timer_token = ~std::uint64_t{0} - 1;

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

void add_own(int epoll_fd, int fd, std::uint64_t token) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = token;
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) throw_errno("epoll_ctl");
}

void drain(int fd) noexcept {
  std::uint64_t count;
  while (::read(fd, &count, sizeof count) == static_cast<ssize_t>(sizeof count)) {
  }
}

}  // namespace

io_handle::io_handle(poller& p, int fd) : poller_(p), fd_(fd) {
  queues_[0].fd = queues_[1].fd = fd;
  queues_[1].direction = io_direction::write;
  try {
    token_ = poller_.add(*this);
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

io_handle::~io_handle() {
  release();
}

void io_handle::release() noexcept {
  if (released_.exchange(true, std::memory_order_acq_rel)) return;
  poller_.remove(*this);
  ::close(fd_);
}

void io_handle::close() noexcept {
  if (closed_.exchange(true, std::memory_order_seq_cst)) return;
  // The peer sees the end of the stream now, not when the descriptor is closed.
  ::shutdown(fd_, SHUT_RDWR);
  detail::io_waiter* lists[2];
  int woken = 0;
  {
    std::lock_guard guard(lock_);
    for (int i = 0; i < 2; ++i) {
      lists[i] = std::exchange(queues_[i].waiters, nullptr);
      for (detail::io_waiter* w = lists[i]; w; w = w->next) ++woken;
    }
  }
  poller_.waiters_.fetch_sub(woken, std::memory_order_relaxed);
  // A parked goroutine is in an operation (ops_ > 0), so it is the last one out that releases.
  if (ops_.load(std::memory_order_seq_cst) == 0) release();
  // Last, touching only the waiters: each may free its node and the handle once readied.
  for (detail::io_waiter* list : lists) {
    while (list) {
      detail::io_waiter* next = list->next;
      ready(list->g);
      list = next;
    }
  }
}

io_handle::operation::~operation() {
  if (detail::tearing_down()) return;
  if (h_.ops_.fetch_sub(1, std::memory_order_seq_cst) == 1 && h_.closed()) h_.release();
}

bool io_handle::consume_ready(io_direction d) noexcept {
  const auto i = static_cast<int>(d);
  std::lock_guard guard(lock_);
  if (closed()) return true;  // the operation sees closed() and fails
  if (!queues_[i].ready) return false;
  queues_[i].ready = false;
  return true;
}

void io_handle::signal(io_direction d, std::vector<goroutine*>& out) {
  const auto i = static_cast<int>(d);
  std::lock_guard guard(lock_);
  detail::io_queue& q = queues_[i];
  if (!q.waiters) {
    q.ready = true;
    return;
  }
  // Wake every waiter: each retries its syscall and those that lose the race wait again.
  int woken = 0;
  for (detail::io_waiter* w = q.waiters; w; w = w->next, ++woken) out.push_back(w->g);
  q.waiters = nullptr;
  poller_.waiters_.fetch_sub(woken, std::memory_order_relaxed);
}

bool io_handle::wait_awaiter::await_suspend(std::coroutine_handle<> c) noexcept {
  detail::io_queue& q = h_.queues_[static_cast<int>(d_)];
  goroutine* g = current_goroutine();
  {
    std::lock_guard guard(h_.lock_);
    if (h_.closed()) return false;  // close() has taken the waiters already
    if (q.ready) {                  // readiness arrived since await_ready
      q.ready = false;
      return false;
    }
    node_.g = g;
    node_.next = q.waiters;
    q.waiters = &node_;
    h_.poller_.waiters_.fetch_add(1, std::memory_order_relaxed);
  }
  // The handle outlives the wait: its owner frees it only once no operation is in progress.
  park(c, wait_reason::io_wait, {wait_object_kind::fd, &q});
  return true;
}

poller::poller() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw_errno("epoll_create1");
  try {
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) throw_errno("eventfd");
    timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (timer_fd_ < 0) throw_errno("timerfd_create");
    add_own(epoll_fd_, wake_fd_, wake_token);
    add_own(epoll_fd_, timer_fd_, timer_token);
  } catch (...) {
    if (timer_fd_ >= 0) ::close(timer_fd_);
    if (wake_fd_ >= 0) ::close(wake_fd_);
    ::close(epoll_fd_);
    throw;
  }
}

poller::~poller() {
  ::close(timer_fd_);
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

std::uint64_t poller::add(io_handle& h) {
  std::lock_guard guard(m_);
  std::uint32_t index;
  if (!free_slots_.empty()) {
    index = free_slots_.back();
    free_slots_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  slot& s = slots_[index];
  const std::uint64_t token = (std::uint64_t{s.gen} << 32) | index;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = token;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, h.fd(), &ev) != 0) {
    const int err = errno;
    free_slots_.push_back(index);
    throw std::system_error(err, std::generic_category(), "epoll_ctl");
  }
  s.h = &h;
  return token;
}

void poller::remove(io_handle& h) noexcept {
  std::lock_guard guard(m_);
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, h.fd(), nullptr);
  const auto index = static_cast<std::uint32_t>(h.token_);
  slot& s = slots_[index];
  s.h = nullptr;
  ++s.gen;  // events still carrying the old token are dropped
  free_slots_.push_back(index);
}

poller::events poller::poll(int timeout_ms) {
  return poll(timeout_ms, true);
}

void poller::poll_ready_now() {
  poll(0, false);
}

poller::events poller::poll(int timeout_ms, bool own_descriptors) {
  std::array<epoll_event, 128> evs;
  const int n = epoll_wait(epoll_fd_, evs.data(), static_cast<int>(evs.size()), timeout_ms);
  events out;
  if (n < 0) {
    if (errno == EINTR) return out;
    throw_errno("epoll_wait");
  }
  // Per thread: the reactor thread and the workers may poll at the same time.
  thread_local std::vector<goroutine*> to_wake;
  {
    std::lock_guard guard(m_);
    for (int k = 0; k < n; ++k) {
      const std::uint64_t token = evs[k].data.u64;
      const std::uint32_t what = evs[k].events;
      if (token == wake_token || token == timer_token) {
        // Level-triggered: left pending, the reactor thread still sees what a worker skipped.
        if (!own_descriptors) continue;
      }
      if (token == wake_token) {
        drain(wake_fd_);
        out.woken = true;
        continue;
      }
      if (token == timer_token) {
        drain(timer_fd_);
        out.timer = true;
        continue;
      }
      const auto index = static_cast<std::uint32_t>(token);
      if (index >= slots_.size()) continue;
      slot& s = slots_[index];
      if (!s.h || s.gen != static_cast<std::uint32_t>(token >> 32)) continue;
      // Errors and hang-ups wake both sides: their syscalls report what happened.
      if (what & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        s.h->signal(io_direction::read, to_wake);
      }
      if (what & (EPOLLOUT | EPOLLHUP | EPOLLERR)) s.h->signal(io_direction::write, to_wake);
    }
  }
  // The waiters' frames may resume (and free their handles) as soon as they are readied, so
  // this happens after the dispatch has finished with every handle.
  for (goroutine* g : to_wake) ready(g);
  to_wake.clear();
  return out;
}

void poller::wake() noexcept {
  const std::uint64_t one = 1;
  [[maybe_unused]] auto r = ::write(wake_fd_, &one, sizeof one);
}

void poller::arm_timer(std::int64_t deadline_ns) noexcept {
  itimerspec spec{};
  if (deadline_ns > 0) {
    spec.it_value.tv_sec = deadline_ns / 1'000'000'000;
    spec.it_value.tv_nsec = deadline_ns % 1'000'000'000;
  }
  timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr);
}

}  // namespace gprofid
