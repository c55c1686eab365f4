// chan<T>: Go's channel. A copyable handle to shared state; unbuffered channels rendezvous,
// buffered ones queue up to cap() values; a default-constructed chan is nil and blocks forever.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "gprofid/detail/park.hpp"
#include "gprofid/detail/spinlock.hpp"
#include "gprofid/wait_object.hpp"

namespace gprofid {

// Go panics on these misuses: sending on or closing a closed channel, closing a nil one.
class channel_closed : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

namespace detail {

struct wait_inspector;
class chan_core;

// The part of a chan<T> handle that its channel knows about: every handle is linked into its
// channel's list, so that a snapshot can count the handles and find the ones that live inside
// waiting goroutines' frames (docs/wait-graph.md).
class chan_handle {
 protected:
  chan_handle() noexcept = default;
  ~chan_handle() = default;
  chan_handle(const chan_handle&) = delete;
  chan_handle& operator=(const chan_handle&) = delete;

  void attach(chan_core* c) noexcept;
  void detach(chan_core* c) noexcept;
  // Takes the place of `from` in c's list; `from` is left unlinked.
  void replace(chan_core* c, chan_handle& from) noexcept;

 private:
  friend class chan_core;
  friend struct wait_inspector;
  chan_handle* prev_ = nullptr;  // guarded by the channel's handles_lock
  chan_handle* next_ = nullptr;
};

// What a select shares with the channels it waits on: the channel operation that claims
// `winner` completes the select; any other must drop the select's waiter nodes untouched.
struct select_state {
  std::atomic<int> winner{-1};
};

// A parked sender or receiver. Lives in the awaiter, inside the suspended coroutine frame, so
// waiting allocates nothing. Every field is guarded by the lock of the channel it is queued on.
struct waiter_node {
  waiter_node* prev = nullptr;
  waiter_node* next = nullptr;
  goroutine* g = nullptr;
  void* data = nullptr;  // T* of a sender, std::optional<T>* of a receiver
  bool linked = false;
  bool closed = false;     // completed by close() instead of a transfer
  bool in_select = false;  // a select_waiter_node
};

// A select case's node: what only a select needs stays out of every plain send and receive
// (docs/performance.md, memory per parked goroutine).
struct select_waiter_node : waiter_node {
  select_waiter_node() noexcept { in_select = true; }
  select_state* sel = nullptr;
  int case_index = 0;
};

// Intrusive FIFO of waiters; removal from the middle is needed when a select gives up a case.
class wait_queue {
 public:
  void push(waiter_node* n) noexcept;
  void remove(waiter_node* n) noexcept;
  // Unlinks and returns the oldest waiter that can still be completed: a plain one, or a select
  // whose winner flag this call claimed. Selects already won elsewhere are dropped on the way.
  waiter_node* pop() noexcept;
  std::uint32_t size() const noexcept { return size_; }

 private:
  waiter_node* head_ = nullptr;
  waiter_node* tail_ = nullptr;
  std::uint32_t size_ = 0;  // linked nodes, for the snapshot's wait-for graph
};

// The untyped part of a channel, which close() and select work on.
class chan_core {
 public:
  explicit chan_core(std::size_t capacity) noexcept : cap(capacity) {}

  // Marks the channel closed and dequeues every waiter; returns them chained through `next`,
  // to be handed to wake_all() once the lock is released. Throws if already closed.
  waiter_node* close_locked();

  spinlock lock;
  const std::size_t cap;
  std::size_t count = 0;  // values in the buffer
  bool closed = false;
  wait_queue recvq;
  wait_queue sendq;
  // Every chan<T> handle to this channel, guarded by `handles_lock`: a leaf lock (nothing else
  // is taken while it is held), because handles are copied and moved while other channels'
  // locks are held (a chan<chan<int>> moves values under its own lock). `handle_changes` counts
  // links and unlinks, so a snapshot can tell that the list did not change between two reads.
  spinlock handles_lock;
  chan_handle* handles = nullptr;
  std::uint32_t handle_count = 0;
  std::uint64_t handle_changes = 0;
  // The pending timer that sends on this channel (after(), ticker), for the wait-for graph,
  // guarded by `lock`: when it fires next on the timer clock (0: none) and a ticker's period.
  // A snapshot shows it as a timer object whose id is the address of timer_when.
  std::int64_t timer_when = 0;
  std::int64_t timer_period = 0;

  void set_timer(std::int64_t when, std::int64_t period) noexcept {
    std::lock_guard guard(lock);
    timer_when = when;
    timer_period = period;
  }
};

// ready()s every waiter of a list returned by close_locked().
void wake_all(waiter_node* list) noexcept;

// Throws unless a goroutine runs on this thread: only goroutines can block.
void require_goroutine(const char* what);

enum class op_result { done, closed, would_block };

template <class T>
class chan_state : public chan_core {
  static_assert(std::is_nothrow_move_constructible_v<T> && std::is_nothrow_destructible_v<T>,
                "channel values are moved under a spinlock and must not throw");

 public:
  explicit chan_state(std::size_t capacity)
      : chan_core(capacity),
        buf_(capacity ? std::make_unique<std::optional<T>[]>(capacity) : nullptr) {}

  // Both with `lock` held. `wake` receives a goroutine to ready() after unlocking.
  op_result send_locked(T& v, goroutine*& wake) noexcept {
    if (closed) return op_result::closed;
    if (waiter_node* r = recvq.pop()) {
      static_cast<std::optional<T>*>(r->data)->emplace(std::move(v));
      wake = r->g;
      return op_result::done;
    }
    if (count < cap) {
      std::size_t tail = head_ + count;
      if (tail >= cap) tail -= cap;
      buf_[tail].emplace(std::move(v));
      ++count;
      return op_result::done;
    }
    return op_result::would_block;
  }

  op_result recv_locked(std::optional<T>& out, goroutine*& wake) noexcept {
    if (waiter_node* s = sendq.pop()) {
      T& sent = *static_cast<T*>(s->data);
      if (cap == 0) {
        out.emplace(std::move(sent));
      } else {
        // Senders only wait on a full buffer: take its head and put the sender's value at the
        // tail (the slot just freed), so values stay in send order.
        out.emplace(std::move(*buf_[head_]));
        buf_[head_].emplace(std::move(sent));
        advance_head();
      }
      wake = s->g;
      return op_result::done;
    }
    if (count > 0) {
      out.emplace(std::move(*buf_[head_]));
      buf_[head_].reset();
      advance_head();
      --count;
      return op_result::done;
    }
    return closed ? op_result::closed : op_result::would_block;
  }

 private:
  void advance_head() noexcept {
    if (++head_ == cap) head_ = 0;
  }

  std::unique_ptr<std::optional<T>[]> buf_;
  std::size_t head_ = 0;
};

}  // namespace detail

template <class T>
class [[nodiscard]] send_awaiter {
 public:
  send_awaiter(detail::chan_state<T>* st, T v) noexcept : st_(st), value_(std::move(v)) {}

  // Completes without suspending when possible; otherwise keeps the lock for await_suspend so
  // checking and queueing are one critical section.
  bool await_ready() {
    if (!st_) {
      detail::require_goroutine("send on nil channel");
      return false;
    }
    st_->lock.lock();
    goroutine* wake = nullptr;
    auto r = st_->send_locked(value_, wake);
    if (r == detail::op_result::would_block) {
      node_.g = current_goroutine();
      if (node_.g) return false;
      st_->lock.unlock();
      detail::require_goroutine("blocking channel send");
    }
    st_->lock.unlock();
    closed_ = r == detail::op_result::closed;
    if (wake) ready(wake);
    return true;
  }

  void await_suspend(std::coroutine_handle<> h) noexcept {
    if (!st_) return park(h, wait_reason::chan_send_nil);
    node_.data = &value_;
    st_->sendq.push(&node_);
    st_->lock.unlock();
    // A wake-up may already have come: ready() allows that.
    park(h, wait_reason::chan_send,
         {wait_object_kind::channel, static_cast<detail::chan_core*>(st_)});
  }

  void await_resume() const {
    if (closed_ || node_.closed) throw channel_closed("send on closed channel");
  }

 private:
  detail::chan_state<T>* st_;
  T value_;
  detail::waiter_node node_;
  bool closed_ = false;
};

template <class T>
class [[nodiscard]] recv_awaiter {
 public:
  explicit recv_awaiter(detail::chan_state<T>* st) noexcept : st_(st) {}

  bool await_ready() {
    if (!st_) {
      detail::require_goroutine("receive from nil channel");
      return false;
    }
    st_->lock.lock();
    goroutine* wake = nullptr;
    auto r = st_->recv_locked(slot_, wake);
    if (r == detail::op_result::would_block) {
      node_.g = current_goroutine();
      if (node_.g) return false;
      st_->lock.unlock();
      detail::require_goroutine("blocking channel receive");
    }
    st_->lock.unlock();
    if (wake) ready(wake);
    return true;
  }

  void await_suspend(std::coroutine_handle<> h) noexcept {
    if (!st_) return park(h, wait_reason::chan_receive_nil);
    node_.data = &slot_;
    st_->recvq.push(&node_);
    st_->lock.unlock();
    park(h, wait_reason::chan_receive,
         {wait_object_kind::channel, static_cast<detail::chan_core*>(st_)});
  }

  std::optional<T> await_resume() noexcept { return std::move(slot_); }

 private:
  detail::chan_state<T>* st_;
  std::optional<T> slot_;
  detail::waiter_node node_;
};

template <class T>
class chan;
// make_chan<int>(): unbuffered; make_chan<int>(n): buffered with room for n values.
template <class T>
chan<T> make_chan(std::size_t capacity = 0);

template <class T>
class chan : private detail::chan_handle {
 public:
  using value_type = T;

  chan() noexcept = default;  // nil
  chan(const chan& o) noexcept : st_(o.st_) {
    if (st_) attach(st_.get());
  }
  chan(chan&& o) noexcept : st_(std::move(o.st_)) {
    if (st_) replace(st_.get(), o);
  }
  chan& operator=(const chan& o) noexcept {
    if (this != &o) {
      reset();
      st_ = o.st_;
      if (st_) attach(st_.get());
    }
    return *this;
  }
  chan& operator=(chan&& o) noexcept {
    if (this != &o) {
      reset();
      st_ = std::move(o.st_);
      if (st_) replace(st_.get(), o);
    }
    return *this;
  }
  ~chan() { reset(); }

  // co_await ch.send(v): blocks until a receiver took v or the buffer had room.
  // Throws channel_closed if the channel is (or gets) closed.
  [[nodiscard]] send_awaiter<T> send(T v) const noexcept { return {st_.get(), std::move(v)}; }
  // co_await ch.recv(): the next value, or nullopt once the channel is closed and drained.
  [[nodiscard]] recv_awaiter<T> recv() const noexcept { return recv_awaiter<T>(st_.get()); }

  // Non-blocking, from any thread. try_send returns false if the value could not be delivered
  // right now (always, on a nil channel) and throws channel_closed on a closed channel.
  bool try_send(T v) const {
    if (!st_) return false;
    goroutine* wake = nullptr;
    st_->lock.lock();
    auto r = st_->send_locked(v, wake);
    st_->lock.unlock();
    if (r == detail::op_result::closed) throw channel_closed("send on closed channel");
    if (wake) ready(wake);
    return r == detail::op_result::done;
  }
  // nullopt if nothing is available now, or the channel is closed and drained (see closed()).
  std::optional<T> try_recv() const {
    std::optional<T> out;
    if (!st_) return out;
    goroutine* wake = nullptr;
    st_->lock.lock();
    st_->recv_locked(out, wake);
    st_->lock.unlock();
    if (wake) ready(wake);
    return out;
  }

  // Wakes every receiver (they get nullopt once the buffer drains) and every blocked sender
  // (they throw channel_closed). Throws channel_closed on a nil or already closed channel.
  void close() const {
    if (!st_) throw channel_closed("close of nil channel");
    st_->lock.lock();
    detail::waiter_node* woken;
    try {
      woken = st_->close_locked();
    } catch (...) {
      st_->lock.unlock();
      throw;
    }
    st_->lock.unlock();
    detail::wake_all(woken);
  }

  std::size_t len() const noexcept {
    if (!st_) return 0;
    std::lock_guard guard(st_->lock);
    return st_->count;
  }
  std::size_t cap() const noexcept { return st_ ? st_->cap : 0; }
  bool closed() const noexcept {
    if (!st_) return false;
    std::lock_guard guard(st_->lock);
    return st_->closed;
  }

  explicit operator bool() const noexcept { return st_ != nullptr; }  // false when nil
  friend bool operator==(const chan& a, const chan& b) noexcept { return a.st_ == b.st_; }

  // For select: the shared state, null when nil.
  detail::chan_state<T>* state() const noexcept { return st_.get(); }

 private:
  template <class U>
  friend chan<U> make_chan(std::size_t);
  explicit chan(std::shared_ptr<detail::chan_state<T>> st) noexcept : st_(std::move(st)) {
    attach(st_.get());
  }
  // Unlinks before dropping the reference: the last handle's unlink must not touch freed state.
  void reset() noexcept {
    if (!st_) return;
    detach(st_.get());
    st_.reset();
  }

  std::shared_ptr<detail::chan_state<T>> st_;
};

template <class T>
chan<T> make_chan(std::size_t capacity) {
  return chan<T>(std::make_shared<detail::chan_state<T>>(capacity));
}

}  // namespace gprofid
