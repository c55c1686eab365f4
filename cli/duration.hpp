// Command-line durations ("100ms", "3s", "250us", "1500ns", "1.5s", "2m"): parsed to
// nanoseconds with an error message that says what was wrong and what is accepted.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string_view>

namespace gprofid::cli {

// Thrown by parse_duration; what() is one line suitable for the user.
class duration_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// A positive duration with a unit (ns, us, ms, s, m, h); fractions allowed ("1.5s").
std::int64_t parse_duration(std::string_view text);

}  // namespace gprofid::cli
