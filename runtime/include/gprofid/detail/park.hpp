// The one suspend path of every blocking primitive. A primitive publishes the goroutine as a
// waiter under its own lock, then calls park() from await_suspend; whoever completes the wait
// calls ready(). Because the wait reason is set here, a snapshot always knows why a goroutine
// waits.
#pragma once

#include <coroutine>
#include <string_view>

#include "gprofid/detail/goroutine.hpp"
#include "gprofid/this_goroutine.hpp"
#include "gprofid/wait_reason.hpp"

namespace gprofid {

namespace detail {
// True on the thread that is freeing the goroutines of a stopped runtime. Primitives' wake paths
// and awaiter destructors must then touch nothing but their own memory: other frames and
// goroutines may already be gone.
bool tearing_down() noexcept;
}  // namespace detail

// The goroutine running on this thread, or null outside the runtime.
goroutine* current_goroutine() noexcept;

// Suspends the current goroutine at `h` for `why`. Call only from await_suspend, returning true
// (or void) afterwards.
void park(std::coroutine_handle<> h, wait_reason why) noexcept;
// The same, naming the object it waits on, for the snapshot's wait-for graph. The object must
// stay alive until the goroutine resumes.
void park(std::coroutine_handle<> h, wait_reason why, blocked_on on) noexcept;

// Makes a parked goroutine runnable. Safe from any thread, and before the parking
// await_suspend has returned.
void ready(goroutine* g) noexcept;

}  // namespace gprofid
