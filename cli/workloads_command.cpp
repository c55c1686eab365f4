#include <cstdio>

#include "cli/commands.hpp"
#include "cli/exit_status.hpp"

namespace gprofid::cli {

void add_workloads_command(CLI::App& app, int& result) {
  auto* cmd = app.add_subcommand("workloads", "(not built yet)");
  cmd->callback([&result] {
    std::fputs("gprof-id workloads: not implemented yet\n", stderr);
    result = exit_failure;
  });
}

}  // namespace gprofid::cli
