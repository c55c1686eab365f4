// gprof-id: record goroutine snapshots of a program and compare them by goroutine ID.
#include <cstdio>
#include <exception>
#include <new>

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"
#include "cli/exit_status.hpp"
#include "cli/out_of_memory.hpp"
#include "gprofid/version.hpp"

int main(int argc, char** argv) {
  gprofid::cli::reserve_memory_for_errors();
  CLI::App app{"gprof-id: goroutine snapshots you can join by ID", "gprof-id"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(gprofid::version_string));
  int result = gprofid::cli::exit_ok;
  gprofid::cli::add_record_command(app, result);
  gprofid::cli::add_workloads_command(app, result);
  gprofid::cli::add_diff_command(app, result);
  gprofid::cli::add_show_command(app, result);
  gprofid::cli::add_export_command(app, result);
  gprofid::cli::add_convert_command(app, result);
  gprofid::cli::add_top_command(app, result);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return gprofid::cli::exit_usage;
  } catch (const std::bad_alloc&) {
    // A command's own handlers cover what they expect; this boundary turns the rest into one
    // line and a documented status instead of std::terminate's abort (docs/exit-codes.md).
    std::fputs("gprof-id: out of memory\n", stderr);
    return gprofid::cli::exit_failure;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gprof-id: %s\n", e.what());
    return gprofid::cli::exit_failure;
  } catch (...) {
    std::fputs("gprof-id: unexpected error\n", stderr);
    return gprofid::cli::exit_failure;
  }
  return result;
}
