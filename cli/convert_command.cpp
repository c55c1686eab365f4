// `gprof-id convert`: a recording in either format (v1 JSON Lines or v2 binary) rewritten in the
// other, sample by sample, holding one sample at a time: v2 -> jsonl for jq and the cookbook,
// jsonl -> v2 to store it small.
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <system_error>

#include "cli/commands.hpp"
#include "cli/diagnostics.hpp"
#include "cli/exit_status.hpp"
#include "cli/output_file.hpp"
#include "cli/recording_input.hpp"
#include "cli/standard_input.hpp"
#include "gprofid/analysis/recording_reader.hpp"
#include "gprofid/recording/recording_writer.hpp"

namespace gprofid::cli {
namespace {

struct convert_options {
  std::string input;
  std::string to;
  std::string output = "-";
  bool force = false;
};

int run_convert(const convert_options& o) {
  const recording_encoding to = *parse_recording_encoding(o.to);
  if (to == recording_encoding::v2 && o.output == "-" && isatty(STDOUT_FILENO)) {
    print_error("a v2 recording is binary; name a file with -o FILE or use --to jsonl");
    return exit_usage;
  }
  return with_recording_errors([&]() -> int {
    const auto opened = open_recording(o.input);  // a bad input fails before any output exists
    recording_reader& reader = *opened;
    std::unique_ptr<output_file> out;
    try {
      out = std::make_unique<output_file>(o.output, o.force);
    } catch (const output_error& e) {
      print_error("%s", e.what());
      return exit_io_error;
    }
    try {
      recording_writer writer(out->fd(), out->name(), to);
      writer.write_header(reader.header());
      sample s;
      while (reader.next(s)) writer.write_sample(s, reader.tables());
      if (reader.end()) writer.write_end(*reader.end());
      out->close();
    } catch (const recording_error&) {
      out->discard();
      throw;
    } catch (const std::bad_alloc&) {  // out of memory, not an output error: main() says which
      out->discard();
      throw;
    } catch (const std::exception& e) {  // std::system_error, output_error: the output failed
      print_error("%s", e.what());
      out->discard();
      return exit_io_error;
    }
    print_warnings(reader.warnings());
    return exit_ok;
  });
}

}  // namespace

void add_convert_command(CLI::App& app, command_run& run) {
  auto o = std::make_shared<convert_options>();
  auto* cmd = app.add_subcommand(
      "convert",
      "Rewrite a recording as JSON Lines (v1: jq, docs/jq-cookbook.md) or binary (v2: small, "
      "fast to read); either format is read");
  cmd->add_option("recording", o->input, "the recording (v1 or v2)")->required();
  cmd->add_option("--to", o->to, "jsonl or v2")->required()->check(CLI::IsMember({"jsonl", "v2"}));
  cmd->add_option("-o,--output", o->output, "output file ('-': stdout, the default)");
  cmd->add_flag("-f,--force", o->force, "overwrite an existing output file");
  cmd->callback([o, &run] { run = [o] { return run_convert(*o); }; });
}

}  // namespace gprofid::cli
