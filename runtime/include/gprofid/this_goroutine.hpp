// The calling goroutine: co_await yield() to let others run, and its id and labels
// (this_goroutine::id(), set_label(), labels()).
#pragma once

#include <coroutine>
#include <cstdint>
#include <string_view>

#include "gprofid/labels.hpp"

namespace gprofid {

// co_await yield(): lets other goroutines run, like Go's runtime.Gosched.
struct [[nodiscard]] yield_awaiter {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) noexcept;
  void await_resume() const noexcept {}
};
[[nodiscard]] inline yield_awaiter yield() noexcept {
  return {};
}

namespace this_goroutine {
// The current goroutine's id, or 0 outside the runtime.
std::uint64_t id() noexcept;
// Labels of the current goroutine, inherited by goroutines it spawns from now on.
void set_label(std::string_view key, std::string_view value);
label_ptr labels() noexcept;
}  // namespace this_goroutine

}  // namespace gprofid
