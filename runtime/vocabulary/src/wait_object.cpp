#include "gprofid/wait_object.hpp"

#include <array>

namespace gprofid {
namespace {

constexpr std::array<std::string_view, 8> kind_names = {"",      "channel", "mutex", "wait_group",
                                                        "event", "select",  "timer", "fd"};

}  // namespace

std::string_view to_string(wait_object_kind k) noexcept {
  auto i = static_cast<std::size_t>(k);
  return i < kind_names.size() ? kind_names[i] : "unknown";
}

std::optional<wait_object_kind> parse_wait_object_kind(std::string_view s) noexcept {
  for (std::size_t i = 1; i < kind_names.size(); ++i) {
    if (kind_names[i] == s) return static_cast<wait_object_kind>(i);
  }
  return std::nullopt;
}

}  // namespace gprofid
