#include "cli/duration.hpp"

#include <array>
#include <cmath>
#include <string>
#include <utility>

namespace gprofid::cli {
namespace {

constexpr std::array<std::pair<std::string_view, double>, 6> units = {{
    {"ns", 1.0},
    {"us", 1e3},
    {"ms", 1e6},
    {"s", 1e9},
    {"m", 60e9},
    {"h", 3600e9},
}};

[[noreturn]] void fail(std::string_view text, std::string_view why) {
  throw duration_error("invalid duration \"" + std::string(text) + "\": " + std::string(why) +
                       " (examples: 1500ns, 250us, 100ms, 3s, 1.5s, 2m)");
}

}  // namespace

std::int64_t parse_duration(std::string_view text) {
  if (text.empty()) fail(text, "empty");
  // Digits with at most one decimal point; no sign, exponent or spaces.
  std::size_t i = 0;
  bool digits = false;
  bool point = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c >= '0' && c <= '9') {
      digits = true;
    } else if (c == '.' && !point) {
      point = true;
    } else {
      break;
    }
  }
  if (!digits) fail(text, "expected a number followed by a unit");
  const std::string_view number = text.substr(0, i);
  const std::string_view unit = text.substr(i);
  if (unit.empty()) fail(text, "missing unit");
  double scale = 0;
  for (const auto& [name, ns] : units) {
    if (name == unit) scale = ns;
  }
  if (scale == 0) fail(text, "unknown unit \"" + std::string(unit) + "\"");
  // std::stod accepts the digits-and-point form we validated; the locale cannot matter for it
  // because the C locale is the only one the CLI uses.
  const double value = std::stod(std::string(number)) * scale;
  if (!std::isfinite(value) || value >= 9.2e18) fail(text, "too large");
  const auto ns = static_cast<std::int64_t>(std::llround(value));
  if (ns <= 0) fail(text, "must be at least 1ns");
  return ns;
}

}  // namespace gprofid::cli
