// `gprof-id show`: one recorded sample as Go's debug=2 goroutine dump, grouped, or as a tree.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "cli/exit_status.hpp"
#include "cli/number_option.hpp"
#include "cli/recording_input.hpp"
#include "gprofid/analysis/goroutine_dump.hpp"

namespace gprofid::cli {
namespace {

struct show_options {
  std::string input;
  std::optional<std::int64_t> sample;
  bool group = false;
  bool tree = false;
};

int run_show(const show_options& o) {
  return with_recording_errors([&]() -> int {
    recording_arg arg = parse_recording_arg(o.input);
    picked_sample p = pick_sample(arg.path, o.sample.value_or(arg.index.value_or(-1)));
    std::string text = o.tree    ? format_goroutine_tree(p.s, p.tables)
                       : o.group ? format_grouped_dump(p.s, p.tables)
                                 : format_goroutine_dump(p.s, p.tables);
    std::cout << text;
    std::cout.flush();
    if (!std::cout) {
      std::fprintf(stderr, "gprof-id: cannot write the output\n");
      return exit_io_error;
    }
    return exit_ok;
  });
}

}  // namespace

void add_show_command(CLI::App& app, int& result) {
  auto o = std::make_shared<show_options>();
  auto* cmd = app.add_subcommand(
      "show",
      "One sample as a Go-style goroutine dump for reading (laid out like debug=2; tools that "
      "parse Go dumps do not read it), grouped, or as a tree");
  cmd->add_option("recording", o->input, "REC or REC@N")->required();
  cmd->add_option("--sample", o->sample, "which sample (negative: from the end; default: last)")
      ->check(whole_number_in(-max_sample_index, max_sample_index));
  auto* group = cmd->add_flag("--group", o->group, "merge identical stacks, with counts and ids");
  cmd->add_flag("--tree", o->tree, "the parent -> child tree")->excludes(group);
  cmd->callback([o, &result] { result = run_show(*o); });
}

}  // namespace gprofid::cli
