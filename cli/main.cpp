// gprof-id: record goroutine snapshots of a program and compare them by goroutine ID.
#include <cstdio>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"
#include "cli/diagnostics.hpp"
#include "cli/exit_status.hpp"
#include "cli/out_of_memory.hpp"
#include "gprofid/analysis/recording_reader.hpp"
#include "gprofid/version.hpp"

namespace {

std::string command_names(const CLI::App& app) {
  std::string names;
  for (const CLI::App* c : app.get_subcommands([](const CLI::App*) { return true; })) {
    names += (names.empty() ? "" : ", ") + c->get_name();
  }
  return names;
}

// CLI11's message on one line (some span several).
std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n') c = ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

// The one error line for a command line CLI11 rejected, naming the offending word; status 2.
int usage_error(const CLI::App& app, const CLI::ParseError& e) {
  const std::vector<CLI::App*> parsed = app.get_subcommands();
  if (parsed.empty()) {
    const std::vector<std::string> rest = app.remaining();
    if (rest.empty()) {
      gprofid::cli::print_error("a command is required (%s); see gprof-id --help",
                                command_names(app).c_str());
    } else if (rest.front().starts_with('-')) {
      gprofid::cli::print_error("unknown option %s (commands: %s; see gprof-id --help)",
                                rest.front().c_str(), command_names(app).c_str());
    } else {
      gprofid::cli::print_error("unknown command \"%s\" (commands: %s)", rest.front().c_str(),
                                command_names(app).c_str());
    }
    return gprofid::cli::exit_usage;
  }
  const CLI::App& cmd = *parsed.back();
  gprofid::cli::set_command_name(cmd.get_name());
  const std::string help = "see gprof-id " + cmd.get_name() + " --help";
  const std::vector<std::string> extras = cmd.remaining();
  if (!extras.empty()) {
    std::string flag;
    for (const auto& word : extras) {
      if (word.size() > 1 && word.starts_with('-')) {
        flag = word;
        break;
      }
    }
    if (flag.empty()) {
      gprofid::cli::print_error("unexpected argument \"%s\" (%s)", extras.front().c_str(),
                                help.c_str());
    } else if (flag.starts_with("-@")) {
      // "-@N" is sample N of standard input, which CLI11 takes for a short option.
      gprofid::cli::print_error(
          "unknown option %s (sample N of standard input is -@N after --: gprof-id %s [OPTIONS] "
          "-- %s; %s)",
          flag.c_str(), cmd.get_name().c_str(), flag.c_str(), help.c_str());
    } else if (cmd.get_name() == "record") {
      // The usual cause: a program's own option given before the "--" that starts the program.
      gprofid::cli::print_error(
          "unknown option %s (a program's own options go after --: gprof-id record [OPTIONS] -- "
          "PROGRAM [ARGS...]; %s)",
          flag.c_str(), help.c_str());
    } else {
      gprofid::cli::print_error("unknown option %s (%s)", flag.c_str(), help.c_str());
    }
    return gprofid::cli::exit_usage;
  }
  gprofid::cli::print_error("%s (%s)", one_line(e.what()).c_str(), help.c_str());
  return gprofid::cli::exit_usage;
}

}  // namespace

int main(int argc, char** argv) {
  gprofid::cli::reserve_memory_for_errors();
  CLI::App app{"gprof-id: goroutine snapshots you can join by ID", "gprof-id"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(gprofid::version_string));
  // A command runs only once the whole command line is accepted: CLI11 runs callbacks before it
  // checks for unknown options, which would start `record --bad -- PROGRAM`.
  gprofid::cli::command_run run;
  gprofid::cli::add_record_command(app, run);
  gprofid::cli::add_workloads_command(app, run);
  gprofid::cli::add_diff_command(app, run);
  gprofid::cli::add_show_command(app, run);
  gprofid::cli::add_export_command(app, run);
  gprofid::cli::add_convert_command(app, run);
  gprofid::cli::add_top_command(app, run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return usage_error(app, e);
  }
  const std::vector<CLI::App*> parsed = app.get_subcommands();
  if (!run || parsed.empty()) return usage_error(app, CLI::RequiredError::Subcommand(1));
  gprofid::cli::set_command_name(parsed.back()->get_name());
  const char* prefix = gprofid::cli::message_prefix().c_str();
  try {
    return run();
  } catch (const gprofid::recording_out_of_memory& e) {
    // Where in which recording (FILE:LINE or FILE: offset N); status as for any out of memory.
    std::fprintf(stderr, "%s: %s\n", prefix, e.what());
    return gprofid::cli::exit_failure;
  } catch (const std::bad_alloc&) {
    // A command's own handlers cover what they expect; this boundary turns the rest into one
    // line and a documented status instead of std::terminate's abort (docs/exit-codes.md).
    // Nothing here allocates: the prefix is already built.
    std::fprintf(stderr, "%s: out of memory\n", prefix);
    return gprofid::cli::exit_failure;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", prefix, e.what());
    return gprofid::cli::exit_failure;
  } catch (...) {
    std::fprintf(stderr, "%s: unexpected error\n", prefix);
    return gprofid::cli::exit_failure;
  }
}
