// The part of every task's promise that makes logical stacks possible: which coroutine this
// frame runs, where it is suspended, and which frame awaits it. The goroutine that owns a chain
// of frames points at the innermost one; a snapshot walks `caller` links outwards.
#pragma once

#include <atomic>
#include <bit>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <new>
#include <source_location>
#include <type_traits>
#include <utility>

#include "gprofid/detail/block_pool.hpp"
#include "gprofid/detail/config.hpp"

namespace gprofid {

class goroutine;

template <class A>
concept has_member_co_await = requires(A&& a) {
  std::forward<A>(a).operator co_await();
};

// Forwards to an awaiter that lives in the co_await's full-expression (a temporary there lives
// across the suspension), so it is never copied or moved.
template <class A>
struct awaiter_ref {
  A& inner;
  bool await_ready() { return inner.await_ready(); }
  template <class P>
  decltype(auto) await_suspend(std::coroutine_handle<P> h) {
    return inner.await_suspend(h);
  }
  decltype(auto) await_resume() { return inner.await_resume(); }
};

// The hash of one frame of a logical stack: frame `pc` at `depth` (0 = root), waiting at `at`.
// Covers exactly what stack_frame equality compares (the function follows from pc). A stack's
// key XORs its frames' hashes, so push and pop update it without storing anything per frame.
inline std::uint64_t frame_hash(std::uint32_t depth, const void* pc,
                                const std::source_location& at) noexcept {
  std::uint64_t h = 0x243f6a8885a308d3ULL ^ depth;
  auto mix = [&h](std::uint64_t v) {
    h = (h ^ v) * 0x9e3779b97f4a7c15ULL;
    h ^= h >> 29;
  };
  mix(reinterpret_cast<std::uintptr_t>(pc));
  mix(reinterpret_cast<std::uintptr_t>(at.file_name()));
  mix(at.line());
  return h * 0xbf58476d1ce4e5b9ULL ^ (h >> 31);
}
namespace detail {
// The last coroutine frame allocated on this thread. get_return_object() runs right after the
// allocation on the same thread, so a promise learns its frame's extent without a header.
struct frame_allocation {
  void* address = nullptr;
  std::size_t size = 0;
  // A channel handle was made inside it before its promise was (a parameter copied into the
  // frame): note_frame hands this on to the promise's may_hold_handles.
  bool holds_handles = false;
};
inline thread_local frame_allocation last_frame_allocation;

// Ends the process with a message naming the coroutine `fn` whose frame the compiler laid out
// where no coroutine handle can resume it (promise_base::note_frame, docs/runtime.md).
[[noreturn]] void report_misplaced_frame(const std::source_location& fn) noexcept;

// The exception escaping the frame that finished last on this thread, on its way to the frame
// awaiting it (or, for a goroutine's root, to the runtime). A frame that fails hands it over at
// once: its final suspension resumes the awaiter, which takes it in await_resume, on this
// thread, before anything else runs. Kept here rather than in every frame's promise.
inline thread_local std::exception_ptr escaping_exception;

// The std::source_location of what __builtin_source_location() returned (GCC and Clang):
// std::source_location::current() is exactly this pointer in its one member.
inline std::source_location source_location_of(const void* impl) noexcept {
  static_assert(sizeof(std::source_location) == sizeof(const void*) &&
                std::is_trivially_copyable_v<std::source_location>);
  return std::bit_cast<std::source_location>(impl);
}
}  // namespace detail

struct promise_base {
  // `fn` is defaulted at the point where the compiler constructs the promise, inside the
  // coroutine, so it names the coroutine function itself (methods and lambdas included).
  explicit promise_base(std::source_location fn) noexcept : function(fn) {}

  // Every co_await in a task passes through here; the default argument is evaluated at the
  // co_await expression, which is how a frame knows the line it is suspended at. It is the
  // pointer std::source_location::current() wraps, not a std::source_location: GCC keeps every
  // class-type temporary of a co_await's full-expression in the coroutine frame, and a
  // std::source_location argument was one (8 bytes per co_await in every frame; a scalar is not
  // kept). What it returns refers to the caller's awaitable instead of moving it, so awaiters
  // that hold intrusive waiter nodes can be immovable.
  template <class A>
  decltype(auto) await_transform(A&& awaitable, const void* at = __builtin_source_location()) {
    if constexpr (GPROFID_TRACKING) {
      await_site.store(detail::source_location_of(at), std::memory_order_relaxed);
    }
    if constexpr (has_member_co_await<A>) {
      return std::forward<A>(awaitable).operator co_await();
    } else {
      return awaiter_ref<std::remove_reference_t<A>>{awaitable};
    }
  }

  // Coroutine frames are allocated here so that each knows its extent: a channel handle whose
  // address lies inside a waiting goroutine's frame is held by that goroutine (wait-graph.md).
  // From the block pool: no allocator header per frame.
  static void* operator new(std::size_t size) {
    void* p = detail::pool_allocate(size);
    detail::last_frame_allocation = {p, size, false};
    return p;
  }
  static void operator delete(void* p, std::size_t size) noexcept { detail::pool_free(p, size); }

  // Called from get_return_object with the frame's address: records the extent if this thread
  // just allocated it (always, with GCC and Clang; else the frame stays of unknown extent).
  void note_frame(void* address) noexcept {
    const auto& a = detail::last_frame_allocation;
#if defined(__GNUC__) && !defined(__clang__)
    // GCC 12 lays out some frames with a field ahead of the resume pointer (a parameter or
    // `this` used in a co_await inside an if/while/for/switch condition): the handle the ABI
    // derives from the promise then points into the frame and can never resume it. GCC
    // allocates every frame through operator new just before this call (no elision), so a
    // handle inside the frame just allocated is that layout; stop at once rather than hang.
    if (a.address != address && a.address < address &&
        static_cast<const char*>(address) < static_cast<const char*>(a.address) + a.size) {
      detail::report_misplaced_frame(function);
    }
#endif
    if (a.address != address) return;
    // The promise lies inside its frame, so the frame's start is kept as an offset from it.
    const auto offset =
        reinterpret_cast<std::uintptr_t>(this) - reinterpret_cast<std::uintptr_t>(address);
    if (offset < a.size && offset <= UINT8_MAX && a.size <= UINT32_MAX) {
      frame_offset = static_cast<std::uint8_t>(offset);
      frame_size = static_cast<std::uint32_t>(a.size);
      if (a.holds_handles) may_hold_handles.store(true, std::memory_order_relaxed);
    }
  }
  // The coroutine frame's first byte; meaningful only when frame_size is not 0.
  const void* frame() const noexcept {
    return reinterpret_cast<const char*>(this) - frame_offset;
  }

  // The coroutine's code address, for symbolised exports and stack identity: its destroy
  // function, the frame's second word in the GCC/Clang ABI, written once when the frame is made
  // (the first, the resume function, is cleared at the final suspension). Read from the frame
  // rather than kept in the promise: a word less in every frame.
  const void* pc() const noexcept {
    return static_cast<const void* const*>(
        std::coroutine_handle<promise_base>::from_promise(const_cast<promise_base&>(*this))
            .address())[1];
  }

  // The frame awaiting this one, in a goroutine: the continuation's promise (every frame of a
  // goroutine is a task, whose promise_base is where the ABI puts the promise; task_promise
  // checks it). Derived rather than kept beside the continuation: a word less in every frame.
  // Null for a goroutine's root.
  const promise_base* caller() const noexcept {
    if (!continuation) return nullptr;
    return &std::coroutine_handle<promise_base>::from_address(continuation.address()).promise();
  }
  promise_base* caller() noexcept {
    return const_cast<promise_base*>(std::as_const(*this).caller());
  }

  std::source_location function;
  std::atomic<std::source_location> await_site{};
  // The coroutine awaiting this one, resumed when it finishes; null for a goroutine's root.
  std::coroutine_handle<> continuation;
  // The frame's extent, when known (0: unknown), whether an exception escaped it (the
  // exception itself is handed on through detail::escaping_exception) and whether it is linked:
  // one word together in every frame (docs/performance.md, memory per parked goroutine).
  std::uint32_t frame_size = 0;
  std::uint8_t frame_offset = 0;  // the promise's offset in its frame: 16 with GCC and Clang
  // A channel handle may lie in this frame: one was made in it while the frame was being
  // created (detail::frame_allocation) or while it ran as its goroutine's innermost frame
  // (note_handle_address). Never cleared. A snapshot looks for handles only in such frames,
  // so attributing them costs the same at any depth (docs/wait-graph.md, "Handles").
  std::atomic<bool> may_hold_handles{false};
  bool failed = false;
  // On a goroutine's chain of frames (its root, or awaited by a frame on the chain); false when
  // awaited outside any goroutine. The goroutine is the one running on this thread whenever the
  // frame runs (current_goroutine), so the frame does not keep it: a word less in every frame.
  bool linked = false;
};

}  // namespace gprofid
