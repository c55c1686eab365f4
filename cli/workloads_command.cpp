// `gprof-id workloads`: lists the built-in workloads and their options.
#include <cstdio>
#include <string>

#include "cli/commands.hpp"
#include "cli/exit_status.hpp"
#include "workloads/workload.hpp"

namespace gprofid::cli {
namespace {

std::string_view kind_name(workloads::option_kind k) {
  switch (k) {
    case workloads::option_kind::count:
      return "count";
    case workloads::option_kind::duration:
      return "duration";
    case workloads::option_kind::ratio:
      return "0..1";
  }
  return "";
}

void print_workloads() {
  const auto& fallback = workloads::default_workload();
  std::printf(
      "Built-in workloads. Record one with\n"
      "  gprof-id record --workload NAME [--opt KEY=VALUE]...\n"
      "Each runs until the recording's --duration/--samples or Ctrl-C (some may finish first).\n");
  for (const auto& w : workloads::all_workloads()) {
    std::printf("\n%.*s%s\n  %.*s\n", static_cast<int>(w.name.size()), w.name.data(),
                &w == &fallback ? " (default)" : "", static_cast<int>(w.description.size()),
                w.description.data());
    for (const auto& o : w.options) {
      const std::string lhs = std::string(o.key) + "=" + std::string(o.default_value);
      const auto kind = kind_name(o.kind);
      std::printf("    %-22s %.*s (%.*s)\n", lhs.c_str(), static_cast<int>(o.help.size()),
                  o.help.data(), static_cast<int>(kind.size()), kind.data());
    }
  }
}

}  // namespace

void add_workloads_command(CLI::App& app, command_run& run) {
  auto* cmd = app.add_subcommand("workloads", "List the built-in workloads and their options");
  cmd->callback([&run] {
    run = [] {
      print_workloads();
      return std::fflush(stdout) == 0 ? exit_ok : exit_io_error;
    };
  });
}

}  // namespace gprofid::cli
