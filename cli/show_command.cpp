// `gprof-id show`: one recorded sample, or a running program's snapshot (--pid), as Go's
// debug=2 goroutine dump, grouped, or as a tree.
#include <sys/socket.h>

#include <cerrno>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "cli/attach.hpp"
#include "cli/commands.hpp"
#include "cli/diagnostics.hpp"
#include "cli/exit_status.hpp"
#include "cli/number_option.hpp"
#include "cli/recording_input.hpp"
#include "gprofid/analysis/goroutine_dump.hpp"
#include "gprofid/analysis/recording_reader.hpp"

namespace gprofid::cli {
namespace {

struct show_options {
  std::string input;
  std::optional<int> pid;
  std::optional<std::int64_t> sample;
  bool group = false;
  bool tree = false;
};

// A snapshot of a running program, through its debug socket.
picked_sample snapshot_of(int pid) {
  attachment a(pid, debug_request{});
  std::string text = a.received();
  char buf[65536];
  while (true) {
    const ssize_t n = ::recv(a.fd(), buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  std::istringstream in(std::move(text));
  recording_reader reader(in, "process " + std::to_string(pid));
  picked_sample p;
  if (!reader.next(p.s)) throw attach_error("process " + std::to_string(pid) + " sent no sample");
  p.header = reader.header();
  p.tables = reader.tables();
  p.count = 1;
  return p;
}

int run_show(const show_options& o) {
  if (o.pid && !o.input.empty()) {
    print_error("give either RECORDING or --pid PID, not both");
    return exit_usage;
  }
  if (o.pid && *o.pid <= 0) {
    print_error("--pid %d: not a process id", *o.pid);
    return exit_usage;
  }
  if (o.pid && o.sample) {
    print_error("--sample picks a sample of a recording; --pid shows the program's current one");
    return exit_usage;
  }
  if (!o.pid && o.input.empty()) {
    print_error("give RECORDING (or --pid PID)");
    return exit_usage;
  }
  return with_recording_errors([&]() -> int {
    picked_sample p;
    if (o.pid) {
      try {
        p = snapshot_of(*o.pid);
      } catch (const attach_error& e) {
        print_error("%s", e.what());
        return exit_failure;
      }
    } else {
      recording_arg arg = parse_recording_arg(o.input);
      p = pick_sample(arg.path, o.sample.value_or(arg.index.value_or(-1)));
    }
    std::string text = o.tree    ? format_goroutine_tree(p.s, p.tables)
                       : o.group ? format_grouped_dump(p.s, p.tables)
                                 : format_goroutine_dump(p.s, p.tables);
    std::cout << text;
    std::cout.flush();
    if (!std::cout) {
      print_error("cannot write the output");
      return exit_io_error;
    }
    return exit_ok;
  });
}

}  // namespace

void add_show_command(CLI::App& app, command_run& run) {
  auto o = std::make_shared<show_options>();
  auto* cmd = app.add_subcommand(
      "show",
      "One sample as a Go-style goroutine dump for reading (laid out like debug=2; tools that "
      "parse Go dumps do not read it), grouped, or as a tree");
  cmd->add_option("recording", o->input, "REC or REC@N");
  cmd->add_option("--pid", o->pid,
                  "instead of a recording, a snapshot of this running program (docs/attach.md)");
  cmd->add_option("--sample", o->sample, "which sample (negative: from the end; default: last)")
      ->check(whole_number_in(-max_sample_index, max_sample_index));
  auto* group = cmd->add_flag("--group", o->group, "merge identical stacks, with counts and ids");
  cmd->add_flag("--tree", o->tree, "the parent -> child tree")->excludes(group);
  cmd->callback([o, &run] { run = [o] { return run_show(*o); }; });
}

}  // namespace gprofid::cli
