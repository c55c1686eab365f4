#include "cli/number_option.hpp"

#include <charconv>
#include <string>

namespace gprofid::cli {

std::int64_t parse_whole_number(std::string_view text, std::int64_t lo, std::int64_t hi) {
  const std::string want =
      " (want a whole number from " + std::to_string(lo) + " to " + std::to_string(hi) + ")";
  const std::string quoted =
      "\"" + std::string(text.substr(0, 40)) + (text.size() > 40 ? "...\"" : "\"");
  std::int64_t v = 0;
  const char* b = text.data();
  const char* e = b + text.size();
  // from_chars takes no '+', no spaces and no base prefix: exactly the form we document.
  auto [ptr, ec] = std::from_chars(b, e, v);
  if (text.empty() || ptr != e || (ec != std::errc{} && ec != std::errc::result_out_of_range)) {
    throw number_error(quoted + " is not a whole number" + want);
  }
  if (ec == std::errc::result_out_of_range || v < lo || v > hi) {
    throw number_error(quoted + " is out of range" + want);
  }
  return v;
}

CLI::Validator whole_number_in(std::int64_t lo, std::int64_t hi) {
  return CLI::Validator(
      [lo, hi](std::string& text) -> std::string {
        try {
          parse_whole_number(text, lo, hi);
        } catch (const number_error& e) {
          return e.what();
        }
        return "";
      },
      std::to_string(lo) + ".." + std::to_string(hi));
}

}  // namespace gprofid::cli
