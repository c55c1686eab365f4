// Makes untrusted strings (labels, function and file names from a recording) safe to print on a
// terminal: control characters and invalid UTF-8 become visible escapes instead of being executed.
#pragma once

#include <string>
#include <string_view>

namespace gprofid {

// Valid UTF-8 printable text is copied; '\n' '\t' '\r' '\\'-style C escapes for common controls,
// "\xNN" for other control bytes (C0, DEL, C1 code points) and for every byte of invalid UTF-8.
std::string escape_text(std::string_view s);

// True when `s` needs no escaping (the common case; lets callers skip a copy).
bool is_plain_text(std::string_view s) noexcept;

}  // namespace gprofid
