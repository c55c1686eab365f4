// The pieces of a Go-style traceback that the runtime's own dumps (SIGQUIT, escaped exceptions)
// and the analysis' dumps of recordings share, so both read alike.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace gprofid {

// "2.5s", "3m10s", "140ms": how long something has been so. Negative reads as 0.
std::string format_duration(std::int64_t ns);

// "created by F in goroutine P\n\tfile:line\n" (" in goroutine P" only when parent_id != 0), each
// line preceded by `indent`.
std::string format_created_by(std::string_view function, std::string_view file, std::uint32_t line,
                              std::uint64_t parent_id, std::string_view indent = {});

}  // namespace gprofid
