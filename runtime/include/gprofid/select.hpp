// select: waits on several channel operations and performs exactly one, like Go's select.
// int i = co_await select(recv_case(a, v), send_case(b, x), default_case()); i is the case fired.
#pragma once

#include <array>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "gprofid/channel.hpp"

namespace gprofid {
namespace detail {

// One case as the type-independent select algorithm sees it.
class select_case {
 public:
  chan_core* core = nullptr;  // null for a nil channel: never ready
  bool is_send = false;
  select_waiter_node node;

  // With core->lock held: performs the operation now if it can (a closed channel counts).
  virtual bool try_complete(goroutine*& wake) noexcept = 0;
  // What the node carries: the value to send, or the slot to receive into.
  virtual void* payload() noexcept = 0;
  // In the resumed select, for the case that fired only.
  virtual void finish() = 0;

 protected:
  select_case() = default;
  select_case(const select_case&) = default;
  select_case& operator=(const select_case&) = default;
  ~select_case() = default;
};

template <class T>
class recv_case_t final : public select_case {
 public:
  recv_case_t(const chan<T>& ch, std::optional<T>* out) noexcept : st_(ch.state()), out_(out) {
    core = st_;
  }
  bool try_complete(goroutine*& wake) noexcept override {
    return st_->recv_locked(slot_, wake) != op_result::would_block;
  }
  void* payload() noexcept override { return &slot_; }
  void finish() override {
    if (out_) *out_ = std::move(slot_);
  }

 private:
  chan_state<T>* st_;
  std::optional<T>* out_;
  std::optional<T> slot_;
};

template <class T>
class send_case_t final : public select_case {
 public:
  send_case_t(const chan<T>& ch, T v) noexcept : st_(ch.state()), value_(std::move(v)) {
    core = st_;
    is_send = true;
  }
  bool try_complete(goroutine*& wake) noexcept override {
    auto r = st_->send_locked(value_, wake);
    closed_ = r == op_result::closed;
    return r != op_result::would_block;
  }
  void* payload() noexcept override { return &value_; }
  void finish() override {
    if (closed_ || node.closed) throw channel_closed("send on closed channel");
  }

 private:
  chan_state<T>* st_;
  T value_;
  bool closed_ = false;
};

struct default_case_t {};

// The state of one select, shared by its awaiter's three steps. Arrays are owned by the awaiter.
struct select_frame {
  select_case** cases = nullptr;   // n entries; null marks the default case
  chan_core** locks = nullptr;     // scratch: distinct channels in address order
  std::uint32_t* order = nullptr;  // scratch: random poll order of the non-nil cases
  std::size_t n = 0;
  std::size_t nlocks = 0;
  std::size_t npoll = 0;
  int default_index = -1;
  int chosen = -1;
  bool parked = false;
  select_state state;
};

// await_ready: locks the channels and polls them in random order; true if a case (or the
// default) fired. Otherwise returns false with every lock still held, for select_park.
bool select_begin(select_frame& f);
// await_suspend: queues a waiter on every channel, parks, releases the locks.
void select_park(select_frame& f, std::coroutine_handle<> h) noexcept;
// await_resume: unlinks the waiters that did not fire; returns the index of the case that did.
int select_end(select_frame& f);

}  // namespace detail

template <class... Cases>
class [[nodiscard]] select_awaiter {
  static constexpr std::size_t n = sizeof...(Cases);
  static_assert((std::is_same_v<Cases, detail::default_case_t> + ... + 0) <= 1,
                "a select has at most one default case");

 public:
  explicit select_awaiter(Cases... cases) : cases_(std::move(cases)...) {}

  bool await_ready() {
    bind(std::index_sequence_for<Cases...>{});
    frame_.cases = ptrs_.data();
    frame_.locks = locks_.data();
    frame_.order = order_.data();
    frame_.n = n;
    return detail::select_begin(frame_);
  }
  void await_suspend(std::coroutine_handle<> h) noexcept { detail::select_park(frame_, h); }
  int await_resume() { return detail::select_end(frame_); }

 private:
  template <std::size_t... I>
  void bind(std::index_sequence<I...>) noexcept {
    ((ptrs_[I] = as_case(std::get<I>(cases_), static_cast<int>(I))), ...);
  }
  detail::select_case* as_case(detail::default_case_t&, int index) noexcept {
    frame_.default_index = index;
    return nullptr;
  }
  detail::select_case* as_case(detail::select_case& c, int) noexcept { return &c; }

  std::tuple<Cases...> cases_;
  std::array<detail::select_case*, n> ptrs_{};
  std::array<detail::chan_core*, n> locks_{};
  std::array<std::uint32_t, n> order_{};
  detail::select_frame frame_;
};

// Receives into `out` (nullopt if the channel was closed and drained).
template <class T>
detail::recv_case_t<T> recv_case(const chan<T>& ch, std::optional<T>& out) noexcept {
  return {ch, &out};
}
// Receives and discards the value (e.g. a timer's channel).
template <class T>
detail::recv_case_t<T> recv_case(const chan<T>& ch) noexcept {
  return {ch, nullptr};
}
// Sends `v` if this case fires; throws channel_closed from the select if it fires on a closed
// channel. Not firing drops `v`.
template <class T>
detail::send_case_t<T> send_case(const chan<T>& ch, std::type_identity_t<T> v) noexcept {
  return {ch, std::move(v)};
}
// Makes the select non-blocking: it fires when no other case is ready.
inline detail::default_case_t default_case() noexcept {
  return {};
}

template <class... Cases>
[[nodiscard]] select_awaiter<std::decay_t<Cases>...> select(Cases&&... cases) {
  return select_awaiter<std::decay_t<Cases>...>(std::forward<Cases>(cases)...);
}

}  // namespace gprofid
