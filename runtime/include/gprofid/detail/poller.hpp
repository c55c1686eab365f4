// The epoll instance of a reactor and the per-descriptor readiness state that lets a goroutine
// park (wait_reason io_wait) until a non-blocking descriptor is readable or writable.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <mutex>
#include <vector>

#include "gprofid/detail/goroutine.hpp"
#include "gprofid/detail/spinlock.hpp"

namespace gprofid {

class poller;

enum class io_direction : std::uint8_t { read = 0, write = 1 };

namespace detail {
// A goroutine parked on a descriptor; lives in the awaiter, inside the parked frame.
struct io_waiter {
  goroutine* g = nullptr;
  io_waiter* next = nullptr;
};

// One direction of a descriptor: what its waiters park on, so the snapshot's wait-for graph
// names it (an fd object, docs/wait-graph.md) by its address. fd and direction are fixed at
// construction (a snapshot reads them without a lock); the rest is guarded by the io_handle's
// lock.
struct io_queue {
  int fd = -1;
  io_direction direction = io_direction::read;
  bool ready = false;  // readiness not consumed by a wait yet
  io_waiter* waiters = nullptr;
};
}  // namespace detail

// One non-blocking descriptor registered (edge-triggered) with a poller. Owns the descriptor:
// destruction deregisters and closes it. Must not outlive the runtime.
class io_handle {
 public:
  io_handle(poller& p, int fd);  // takes ownership of fd even if registration throws
  ~io_handle();
  io_handle(const io_handle&) = delete;
  io_handle& operator=(const io_handle&) = delete;

  int fd() const noexcept { return fd_; }

  // Go's Close on a conn or listener another goroutine is blocked in: from any thread, at most
  // once counted. Shuts the socket down, resumes every goroutine waiting on it and makes later
  // waits return at once (operations then see closed() and fail); the descriptor itself is
  // deregistered and closed when no operation is in progress any more, so its number is not
  // reused under one. Wakes the waiters last: they may free the handle as soon as they run.
  void close() noexcept;
  bool closed() const noexcept { return closed_.load(std::memory_order_seq_cst); }

  // An operation in progress on the handle (a read, write or accept), in its coroutine frame:
  // close() leaves the descriptor open until the last one ends. A frame freed at runtime
  // teardown does not touch the handle, which may be gone already.
  class operation {
   public:
    explicit operation(io_handle& h) noexcept : h_(h) {
      h_.ops_.fetch_add(1, std::memory_order_seq_cst);
    }
    ~operation();
    operation(const operation&) = delete;
    operation& operator=(const operation&) = delete;

   private:
    io_handle& h_;
  };

  // co_await h.wait(dir): returns once the descriptor may have become ready in `dir` since the
  // last wait (callers retry their syscall and wait again on EAGAIN).
  class [[nodiscard]] wait_awaiter {
   public:
    wait_awaiter(io_handle& h, io_direction d) noexcept : h_(h), d_(d) {}
    bool await_ready() noexcept { return h_.consume_ready(d_); }
    bool await_suspend(std::coroutine_handle<> c) noexcept;
    void await_resume() const noexcept {}

   private:
    io_handle& h_;
    io_direction d_;
    detail::io_waiter node_;
  };
  [[nodiscard]] wait_awaiter wait(io_direction d) noexcept { return {*this, d}; }

 private:
  friend class poller;
  bool consume_ready(io_direction d) noexcept;
  // Called by the poller: wakes the waiters of `d` (appending them to `out`) or remembers the
  // readiness for the next wait.
  void signal(io_direction d, std::vector<goroutine*>& out);

  // Deregisters and closes the descriptor, once.
  void release() noexcept;

  poller& poller_;
  int fd_;
  std::uint64_t token_ = 0;
  spinlock lock_;               // guards queues_ (a leaf lock: nothing is taken while it is held)
  detail::io_queue queues_[2];  // by io_direction
  // close() and operation: whichever sees the other gone releases the descriptor (seq_cst, so
  // an operation that starts as close() runs either sees closed_ or is seen in ops_).
  std::atomic<bool> closed_{false};
  std::atomic<bool> released_{false};
  std::atomic<std::uint32_t> ops_{0};
};

class poller {
 public:
  poller();
  ~poller();
  poller(const poller&) = delete;
  poller& operator=(const poller&) = delete;

  // Which of the poller's own descriptors fired during poll().
  struct events {
    bool woken = false;
    bool timer = false;
  };
  // Waits for readiness (timeout_ms -1 = forever), readies the goroutines waiting on ready
  // descriptors, and reports the wake-up and timer descriptors. Any number of threads may poll
  // at once (the reactor thread blocks here while busy workers poll with timeout 0); each
  // edge-triggered readiness reaches one of them.
  events poll(int timeout_ms);
  // A worker's look between two runs: readies the goroutines whose descriptors are ready, never
  // blocks, and leaves the wake-up and timer descriptors (level-triggered) to the reactor thread.
  void poll_ready_now();
  // Goroutines parked on descriptors right now: one relaxed load, so that workers poll only
  // while someone waits (Go's netpollAnyWaiters).
  bool has_waiters() const noexcept { return waiters_.load(std::memory_order_relaxed) != 0; }
  // Interrupts a poll() in progress (or the next one); any thread.
  void wake() noexcept;
  // Arms the timer descriptor for an absolute CLOCK_MONOTONIC instant; 0 disarms it.
  void arm_timer(std::int64_t deadline_ns) noexcept;

 private:
  friend class io_handle;
  std::uint64_t add(io_handle& h);
  void remove(io_handle& h) noexcept;
  events poll(int timeout_ms, bool own_descriptors);

  struct slot {
    io_handle* h = nullptr;
    std::uint32_t gen = 0;
  };

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  int timer_fd_ = -1;
  // Guards slots_ and is held while dispatching, so that a handle removed under it is never
  // touched again by an event already returned from epoll_wait.
  std::mutex m_;
  std::vector<slot> slots_;
  std::vector<std::uint32_t> free_slots_;
  // Parked in wait_awaiter (incremented under the handle's lock), decremented as signal() takes
  // them off their handle.
  std::atomic<int> waiters_{0};
};

}  // namespace gprofid
