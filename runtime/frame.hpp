// The part of every task's promise that makes logical stacks possible: which coroutine this
// frame runs, where it is suspended, and which frame awaits it. The goroutine that owns a chain
// of frames points at the innermost one; a snapshot walks `caller` links outwards.
#pragma once

#include <atomic>
#include <exception>
#include <source_location>
#include <utility>

namespace gprofid {

class goroutine;

struct promise_base {
  // `fn` is defaulted at the point where the compiler constructs the promise, inside the
  // coroutine, so it names the coroutine function itself (methods and lambdas included).
  explicit promise_base(std::source_location fn) noexcept : function(fn) {}

  // Every co_await in a task passes through here; the default argument is evaluated at the
  // co_await expression, which is how a frame knows the line it is suspended at.
  template <class A>
  A&& await_transform(A&& awaitable,
                      std::source_location at = std::source_location::current()) noexcept {
    await_site.store(at, std::memory_order_relaxed);
    return std::forward<A>(awaitable);
  }

  std::source_location function;
  std::atomic<std::source_location> await_site{};
  const void* pc = nullptr;        // the coroutine's resume function, for symbolised exports
  promise_base* caller = nullptr;  // the frame awaiting this one; null for a goroutine's root
  goroutine* owner = nullptr;      // null when awaited outside any goroutine
  std::exception_ptr exception;
};

}  // namespace gprofid
