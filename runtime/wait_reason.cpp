#include "runtime/wait_reason.hpp"

#include <array>

namespace gprofid {
namespace {

constexpr std::array<std::string_view, 13> wait_reason_names = {
    "",       "chan receive",      "chan send", "chan receive (nil chan)", "chan send (nil chan)",
    "select", "select (no cases)", "sleep",     "sync.Mutex.Lock",         "sync.WaitGroup.Wait",
    "event",  "IO wait",           "yield",
};

constexpr std::array<std::string_view, 4> state_names = {"runnable", "running", "waiting", "dead"};

template <class E, std::size_t N>
std::optional<E> parse_by_name(const std::array<std::string_view, N>& names, std::string_view s) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == s) return static_cast<E>(i);
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(wait_reason r) noexcept {
  auto i = static_cast<std::size_t>(r);
  return i < wait_reason_names.size() ? wait_reason_names[i] : "unknown";
}

std::optional<wait_reason> parse_wait_reason(std::string_view s) noexcept {
  return parse_by_name<wait_reason>(wait_reason_names, s);
}

std::string_view to_string(goroutine_state s) noexcept {
  auto i = static_cast<std::size_t>(s);
  return i < state_names.size() ? state_names[i] : "unknown";
}

std::optional<goroutine_state> parse_goroutine_state(std::string_view s) noexcept {
  return parse_by_name<goroutine_state>(state_names, s);
}

}  // namespace gprofid
