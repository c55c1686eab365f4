// `gprof-id top`: a live terminal view of a running program's goroutines (--pid, through its
// debug socket) or a replay of a recording (docs/top.md). This file parses the command line,
// checks the terminal, opens the source and maps failures to exit statuses; the model is
// gprofid::top_session, the drawing top_screen, the keys top_loop.
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>

#include "cli/attach.hpp"
#include "cli/commands.hpp"
#include "cli/diagnostics.hpp"
#include "cli/duration.hpp"
#include "cli/exit_status.hpp"
#include "cli/interrupts.hpp"
#include "cli/recording_input.hpp"
#include "cli/standard_input.hpp"
#include "cli/top_live_source.hpp"
#include "cli/top_loop.hpp"
#include "cli/top_screen.hpp"
#include "gprofid/analysis/recording_reader.hpp"
#include "gprofid/analysis/top_replay.hpp"

namespace gprofid::cli {
namespace {

struct top_command_options {
  std::string input;
  std::optional<int> pid;
  std::string interval = "1s";
};

int run_top(const top_command_options& o) {
  if (o.pid && !o.input.empty()) {
    print_error("give either RECORDING or --pid PID, not both");
    return exit_usage;
  }
  if (!o.pid && o.input.empty()) {
    print_error("give RECORDING (or --pid PID)");
    return exit_usage;
  }
  if (o.pid && *o.pid <= 0) {
    print_error("--pid %d: not a process id", *o.pid);
    return exit_usage;
  }
  std::int64_t interval_ns = 0;
  try {
    interval_ns = parse_duration(o.interval);
  } catch (const duration_error& e) {
    print_error("--interval: %s", e.what());
    return exit_usage;
  }
  // A screen needs a terminal on both ends; anything else gets one line and no escape codes.
  if (!::isatty(STDOUT_FILENO) || !::isatty(STDIN_FILENO)) {
    print_error("%s is not a terminal (top is interactive; for text use show or diff)",
                ::isatty(STDOUT_FILENO) ? "stdin" : "stdout");
    return exit_usage;
  }
  return with_recording_errors([&]() -> int {
    top_options options;
    top_view view;
    std::unique_ptr<top_session> session;
    std::unique_ptr<top_live_source> live;
    // Blocked before the reader thread starts, so that it inherits the mask and only the loop
    // sees SIGINT/SIGTERM.
    interrupts sigs;
    if (o.pid) {
      try {
        live = std::make_unique<top_live_source>(*o.pid, interval_ns);
      } catch (const attach_error& e) {
        print_error("%s", e.what());
        return exit_failure;
      }
      session = std::make_unique<top_session>(options);
      view.source = live->name();
    } else {
      // Read again whenever the position moves back, so it must be a file.
      struct stat st {};
      if (is_standard_input(o.input) ||
          (::stat(o.input.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))) {
        print_error("%s: not a file (top replays a recording by reading it again)",
                    o.input.c_str());
        return exit_usage;
      }
      auto replay = std::make_unique<top_replay>(o.input, options.summary);
      if (!replay->reader_warnings().empty())
        view.status = "warning: " + replay->reader_warnings().front();
      session = std::make_unique<top_session>(options, std::move(replay));
      view.source = o.input;
    }
    int status;
    {
      top_screen screen;
      status = run_top_loop(screen, *session, live.get(), std::move(view), sigs.fd());
    }
    // A signal that ended the loop is consumed here, so that restoring the mask does not
    // deliver it (ncurses' handler would exit 1).
    sigs.take();
    return status;
  });
}

}  // namespace

void add_top_command(CLI::App& app, command_run& run) {
  auto o = std::make_shared<top_command_options>();
  auto* cmd = app.add_subcommand(
      "top",
      "A live goroutine table of a running program (--pid) or a replay of a recording: sort, "
      "filter, follow one goroutine, warnings (docs/top.md)");
  cmd->add_option("recording", o->input, "a recording to replay");
  cmd->add_option("--pid", o->pid, "a running program's debug socket (docs/attach.md)");
  cmd->add_option("-i,--interval", o->interval, "--pid: time between samples (default 1s)");
  cmd->callback([o, &run] { run = [o] { return run_top(*o); }; });
}

}  // namespace gprofid::cli
