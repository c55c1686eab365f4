// `gprof-id export`: converts a recording for other tools: pprof goroutine profiles, a Chrome
// trace-event timeline (Perfetto), or folded stacks for flame graphs. See docs/export.md.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "cli/commands.hpp"
#include "cli/diagnostics.hpp"
#include "cli/exit_status.hpp"
#include "cli/number_option.hpp"
#include "cli/output_file.hpp"
#include "cli/recording_input.hpp"
#include "cli/standard_input.hpp"
#include "gprofid/analysis/export_folded.hpp"
#include "gprofid/analysis/export_pprof.hpp"
#include "gprofid/analysis/export_trace.hpp"
#include "gprofid/analysis/recording_reader.hpp"

namespace gprofid::cli {
namespace {

struct export_options {
  std::string input;
  std::string format;
  std::string output = "-";
  std::optional<std::int64_t> sample_index;
  bool all = false;
  bool force = false;
  std::string weight = "count";
  bool lines = false;
  std::string profile = "goroutine";
};

// A usage error found after parsing (option combinations CLI11 cannot express).
class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

void write_all(output_file& out, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(out.fd(), data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw output_error("cannot write " + out.name() + ": " + std::strerror(errno));
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

void write_file(const std::string& path, bool force, std::string_view data) {
  output_file out(path, force);
  try {
    write_all(out, data);
    out.close();
  } catch (...) {
    out.discard();
    throw;
  }
}

// "out.pb.gz" -> "out.7.pb.gz"; "out" -> "out.7.pb.gz"; `repeat` k > 0 -> "out.7.k.pb.gz".
std::string numbered_path(const std::string& path, std::uint64_t seq, std::uint64_t repeat = 0) {
  constexpr std::string_view suffix = ".pb.gz";
  std::string stem = path;
  if (stem.size() > suffix.size() && stem.ends_with(suffix))
    stem.resize(stem.size() - suffix.size());
  stem += "." + std::to_string(seq);
  if (repeat > 0) stem += "." + std::to_string(repeat);
  return stem + std::string(suffix);
}

int export_pprof(const export_options& o) {
  auto* const profile_of =
      o.profile == "goroutineleak" ? &pprof_goroutineleak_profile : &pprof_goroutine_profile;
  if (!o.all) {
    if (o.output == "-" && isatty(STDOUT_FILENO)) {
      throw usage_error("a pprof profile is binary; name a file with -o FILE.pb.gz");
    }
    picked_sample picked = pick_sample(o.input, o.sample_index.value_or(-1));
    write_file(o.output, o.force,
               profile_of(picked.tables, picked.s, pprof_source_of(picked.header)));
    if (o.output != "-")
      std::fprintf(stderr, "%s: wrote %s\n", message_prefix().c_str(), o.output.c_str());
    return exit_ok;
  }
  if (o.output == "-")
    throw usage_error("--all writes one file per sample; name them with -o FILE");
  const auto opened = open_recording(o.input);
  recording_reader& reader = *opened;
  const pprof_source source = pprof_source_of(reader.header());
  sample s;
  // A recording may repeat a sequence number; its later samples get their own files rather
  // than overwriting (with --force) or refusing (without) the ones this run just wrote.
  std::map<std::uint64_t, std::uint64_t> times_seen;
  std::uint64_t written = 0;
  std::string first_path, last_path;
  while (reader.next(s)) {
    const std::string path = numbered_path(o.output, s.seq, times_seen[s.seq]++);
    write_file(path, o.force, profile_of(reader.tables(), s, source));
    if (written++ == 0) first_path = path;
    last_path = path;
  }
  print_warnings(reader.warnings());
  if (written == 0)
    throw std::out_of_range(recording_name(o.input) + ": the recording has no samples");
  std::fprintf(stderr, "%s: wrote %llu profiles, %s to %s\n", message_prefix().c_str(),
               static_cast<unsigned long long>(written), first_path.c_str(), last_path.c_str());
  return exit_ok;
}

// Streams the chosen sample into `add` (a builder's add), or every sample as what it changed,
// the builder asking for a whole one only if it needs it; then returns the tables that cover
// them.
template <class Builder>
symbol_tables feed(const export_options& o, Builder& builder) {
  if (o.sample_index) {
    picked_sample picked = pick_sample(o.input, *o.sample_index);
    builder.add(picked.tables, picked.s);
    return std::move(picked.tables);
  }
  const auto opened = open_recording(o.input);
  recording_reader& reader = *opened;
  sample_changes changes;
  const std::function<void(sample&)> whole = [&reader](sample& s) { reader.current(s); };
  std::uint64_t n = 0;
  while (reader.next_changes(changes)) {
    builder.add(reader.tables(), changes, whole);
    ++n;
  }
  print_warnings(reader.warnings());
  if (n == 0) throw std::out_of_range(recording_name(o.input) + ": the recording has no samples");
  return reader.tables();
}

// Streams: each sample's slices go out as it is read, so no trace is ever held in memory.
int export_trace(const export_options& o) {
  output_file out(o.output, o.force);
  try {
    trace_writer writer([&](std::string_view piece) { write_all(out, piece); });
    symbol_tables tables = feed(o, writer);
    writer.finish(tables);
    out.close();
  } catch (...) {
    out.discard();
    throw;
  }
  return exit_ok;
}

int export_folded(const export_options& o) {
  folded_builder builder(
      {.weight = o.weight == "time" ? folded_weight::waiting_time : folded_weight::goroutines,
       .lines = o.lines});
  feed(o, builder);
  write_file(o.output, o.force, builder.str());
  return exit_ok;
}

int run_export(const export_options& o) {
  try {
    return with_recording_errors([&]() -> int {
      if (o.all && o.sample_index) throw usage_error("--sample and --all exclude each other");
      if (o.format != "folded" && (o.weight != "count" || o.lines)) {
        throw usage_error("--weight and --lines apply to --format folded only");
      }
      if (o.format != "pprof" && o.profile != "goroutine") {
        throw usage_error("--profile applies to --format pprof only");
      }
      if (o.format != "pprof" && o.all) {
        throw usage_error(
            "--all applies to --format pprof (trace and folded use every sample "
            "unless --sample is given)");
      }
      if (o.format == "pprof") return export_pprof(o);
      if (o.format == "trace") return export_trace(o);
      return export_folded(o);
    });
  } catch (const usage_error& e) {
    print_error("%s", e.what());
    return exit_usage;
  } catch (const output_error& e) {
    print_error("%s", e.what());
    return exit_io_error;
  }
}

}  // namespace

void add_export_command(CLI::App& app, command_run& run) {
  auto o = std::make_shared<export_options>();
  auto* cmd = app.add_subcommand(
      "export",
      "Convert a recording for other tools: pprof goroutine profiles (go tool pprof), a "
      "trace-event timeline (Chrome DevTools, speedscope, ui.perfetto.dev) or folded stacks (flame "
      "graphs); see docs/export.md");
  cmd->add_option("recording", o->input, "the recording (v1 or v2)")->required();
  cmd->add_option("--format", o->format, "pprof, trace or folded")
      ->required()
      ->check(CLI::IsMember({"pprof", "trace", "folded"}));
  cmd->add_option("-o,--output", o->output,
                  "output file ('-': stdout, the default); with pprof --all, FILE.N.pb.gz per "
                  "sample N");
  cmd->add_option("--sample", o->sample_index,
                  "only sample N (negative: from the end; pprof default: -1, the last)")
      ->check(whole_number_in(-max_sample_index, max_sample_index));
  cmd->add_flag("--all", o->all, "pprof: one profile per sample");
  cmd->add_flag("-f,--force", o->force, "overwrite existing output files");
  cmd->add_option("--weight", o->weight,
                  "folded: count (goroutines per stack, summed over samples) or time "
                  "(nanoseconds spent waiting per stack)")
      ->check(CLI::IsMember({"count", "time"}));
  cmd->add_flag("--lines", o->lines, "folded: frames as 'function file:line'");
  cmd->add_option("--profile", o->profile,
                  "pprof: goroutine (every goroutine, the default) or goroutineleak (only those "
                  "the wait-for graph proves leaked, as Go's goroutineleak profile)")
      ->check(CLI::IsMember({"goroutine", "goroutineleak"}));
  cmd->callback([o, &run] { run = [o] { return run_export(*o); }; });
}

}  // namespace gprofid::cli
