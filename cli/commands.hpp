// The subcommands of gprof-id. Each registers itself on the CLI11 app and, when selected, sets
// `run` to the work it does; main() calls it once the whole command line parsed and returns its
// exit status (see exit_status.hpp).
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace gprofid::cli {

using command_run = std::function<int()>;

void add_record_command(CLI::App& app, command_run& run);
void add_workloads_command(CLI::App& app, command_run& run);
void add_diff_command(CLI::App& app, command_run& run);
void add_show_command(CLI::App& app, command_run& run);
void add_export_command(CLI::App& app, command_run& run);
void add_convert_command(CLI::App& app, command_run& run);
void add_top_command(CLI::App& app, command_run& run);

}  // namespace gprofid::cli
