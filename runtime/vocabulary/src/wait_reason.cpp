#include "gprofid/wait_reason.hpp"

namespace gprofid {

std::string_view to_string(wait_reason r) noexcept {
  auto i = static_cast<std::size_t>(r);
  return i < wait_reason_names.size() ? wait_reason_names[i].go : "unknown";
}

std::optional<wait_reason> parse_wait_reason(std::string_view s) noexcept {
  for (const auto& n : wait_reason_names) {
    if (n.go == s) return n.reason;
  }
  return std::nullopt;
}

std::optional<wait_reason> parse_wait_reason_any(std::string_view s) noexcept {
  if (s.empty()) return std::nullopt;
  for (const auto& n : wait_reason_names) {
    if (n.go == s || n.id == s || n.alias == s) return n.reason;
  }
  return std::nullopt;
}

std::string_view to_string(goroutine_state s) noexcept {
  auto i = static_cast<std::size_t>(s);
  return i < goroutine_state_names.size() ? goroutine_state_names[i] : "unknown";
}

std::optional<goroutine_state> parse_goroutine_state(std::string_view s) noexcept {
  for (std::size_t i = 0; i < goroutine_state_names.size(); ++i) {
    if (goroutine_state_names[i] == s) return static_cast<goroutine_state>(i);
  }
  return std::nullopt;
}

}  // namespace gprofid
