// The subcommands of gprof-id. Each registers itself on the CLI11 app and sets `result` when run;
// main() only parses and returns the exit status (see exit_status.hpp).
#pragma once

#include <CLI/CLI.hpp>

namespace gprofid::cli {

void add_record_command(CLI::App& app, int& result);
void add_workloads_command(CLI::App& app, int& result);
void add_diff_command(CLI::App& app, int& result);
void add_show_command(CLI::App& app, int& result);
void add_export_command(CLI::App& app, int& result);
void add_convert_command(CLI::App& app, int& result);
void add_top_command(CLI::App& app, int& result);

}  // namespace gprofid::cli
