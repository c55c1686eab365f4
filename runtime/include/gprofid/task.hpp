// task<T>: a lazily started coroutine that runs when awaited, hands control back to its awaiter
// by symmetric transfer, and carries its value or exception to the awaiter. Owns its frame.
#pragma once

#include <cassert>
#include <coroutine>
#include <exception>
#include <optional>
#include <source_location>
#include <type_traits>
#include <utility>

#include "gprofid/detail/frame.hpp"
#include "gprofid/detail/goroutine.hpp"
#include "gprofid/detail/park.hpp"

namespace gprofid {

template <class T = void>
class task;

namespace detail {

// Records the escaping exception once, at the innermost frame, together with the logical stack
// it escaped from (by the time it reaches the root the frames in between have unwound).
void note_escaping_exception(promise_base& p) noexcept;

// Tells the worker running a goroutine that its root frame has finished.
void root_finished() noexcept;

template <class T>
struct task_promise_storage {
  std::optional<T> value;
  template <class U>
  void return_value(U&& v) {
    value.emplace(std::forward<U>(v));
  }
  T take() { return std::move(*value); }
};

template <>
struct task_promise_storage<void> {
  void return_void() noexcept {}
  void take() noexcept {}
};

template <class T>
struct task_promise final : promise_base, task_promise_storage<T> {
  explicit task_promise(std::source_location fn = std::source_location::current()) noexcept
      : promise_base(fn) {}

  task<T> get_return_object() noexcept;
  std::suspend_always initial_suspend() noexcept { return {}; }

  struct final_awaiter {
    bool await_ready() noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<task_promise> h) noexcept {
      auto& p = h.promise();
      if (p.linked) pop_frame(current_goroutine(), &p);
      if (p.continuation) return p.continuation;
      if (p.linked) root_finished();
      return std::noop_coroutine();
    }
    void await_resume() noexcept {}
  };
  final_awaiter final_suspend() noexcept { return {}; }

  void unhandled_exception() noexcept {
    failed = true;
    escaping_exception = std::current_exception();
    note_escaping_exception(*this);
  }
};

}  // namespace detail

template <class T>
class [[nodiscard]] task {
 public:
  using promise_type = detail::task_promise<T>;
  using handle_type = std::coroutine_handle<promise_type>;

  task() noexcept = default;
  explicit task(handle_type h) noexcept : h_(h) {}
  task(task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  task& operator=(task&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  ~task() {
    if (h_) h_.destroy();
  }

  bool valid() const noexcept { return static_cast<bool>(h_); }
  // Gives up ownership of the frame (the runtime takes it when a task becomes a goroutine).
  handle_type release() noexcept { return std::exchange(h_, {}); }

  struct awaiter {
    handle_type h;
    bool await_ready() const noexcept { return !h || h.done(); }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> caller) noexcept {
      auto& p = h.promise();
      p.continuation = caller;
      if constexpr (std::is_base_of_v<promise_base, P>) {
        if (caller.promise().linked) {
          p.linked = true;
          push_frame(current_goroutine(), &p);
        }
      }
      return h;
    }
    T await_resume() {
      auto& p = h.promise();
      if (p.failed) std::rethrow_exception(std::exchange(detail::escaping_exception, nullptr));
      return p.take();
    }
  };
  awaiter operator co_await() && noexcept { return awaiter{h_}; }

 private:
  handle_type h_;
};

namespace detail {
// The promise of a goroutine's root frame (a goroutine runs a task<void>), derived rather than
// kept in every control block. Valid while the frame lives: registry::destroy nulls `root`.
inline promise_base* root_promise(const goroutine& g) noexcept {
  return &std::coroutine_handle<task_promise<void>>::from_address(g.root.address()).promise();
}

template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
  // promise_base::caller() finds a task's promise from its frame's address where a promise of
  // promise_base's alignment lies: right after the resume and destroy pointers (GCC and Clang),
  // where one of any alignment up to theirs together lies too.
  static_assert(alignof(task_promise) <= 2 * sizeof(void*),
                "gprofid::task<T>: T must not be aligned to more than 16 bytes");
  auto h = std::coroutine_handle<task_promise>::from_promise(*this);
  note_frame(h.address());
  return task<T>{h};
}
}  // namespace detail

}  // namespace gprofid
