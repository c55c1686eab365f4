// The one line every gprof-id error and warning is (docs/exit-codes.md): "gprof-id COMMAND: ...".
// main() names the command once it is parsed; one process runs one command, so the shared helpers
// (recording input, output files) need not be told which command they serve.
#pragma once

#include <string>
#include <string_view>

namespace gprofid::cli {

// Sets the COMMAND of every later line ("" before a subcommand is known: "gprof-id: ...").
void set_command_name(std::string_view name);
// "gprof-id COMMAND" (or "gprof-id").
const std::string& message_prefix();

// Prints "gprof-id COMMAND: <printf-formatted message>\n" on stderr.
[[gnu::format(printf, 1, 2)]] void print_error(const char* format, ...);
// Prints "gprof-id COMMAND: warning: <message>\n" on stderr.
[[gnu::format(printf, 1, 2)]] void print_warning(const char* format, ...);

}  // namespace gprofid::cli
