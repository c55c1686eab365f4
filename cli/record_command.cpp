// `gprof-id record`: parses the options, checks everything that can be checked before any file
// is created or program started, then records a built-in workload or an external program.
#include <signal.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/commands.hpp"
#include "cli/duration.hpp"
#include "cli/exit_status.hpp"
#include "cli/launch.hpp"
#include "cli/number_option.hpp"
#include "cli/record.hpp"

namespace gprofid::cli {
namespace {

struct record_flags {
  std::string output = "gprof-id.rec";
  std::string format;  // "": v2, or jsonl for an output named *.jsonl
  bool force = false;
  std::string interval = "100ms";
  std::string duration;
  std::uint64_t samples = 0;
  std::size_t workers = 0;
  std::string workload;
  std::vector<std::string> workload_options;
  std::string first_sample_timeout = "5s";
  int verbose = 0;
  bool quiet = false;
  std::vector<std::string> command;
  std::optional<int> pid;
};

std::shared_ptr<spdlog::logger> make_logger(const record_flags& f) {
  auto log =
      std::make_shared<spdlog::logger>("record", std::make_shared<spdlog::sinks::stderr_sink_st>());
  log->set_pattern("gprof-id record: %v");
  log->set_level(f.quiet         ? spdlog::level::warn
                 : f.verbose > 0 ? spdlog::level::debug
                                 : spdlog::level::info);
  return log;
}

std::string workload_names() {
  std::string names;
  for (const auto& w : workloads::all_workloads()) {
    names += (names.empty() ? "" : ", ") + std::string(w.name);
  }
  return names;
}

// Fills `req` from the flags; false (after one error line) if they make no sense.
bool build_request(const record_flags& f, record_request& req, spdlog::logger& log) {
  const char* flag = "";
  try {
    flag = "--interval";
    req.interval_ns = parse_duration(f.interval);
    flag = "--duration";
    if (!f.duration.empty()) req.duration_ns = parse_duration(f.duration);
    flag = "--first-sample-timeout";
    req.first_sample_timeout_ns = parse_duration(f.first_sample_timeout);
  } catch (const duration_error& e) {
    log.error("{}: {}", flag, e.what());
    return false;
  }
  // v2 unless asked otherwise; an output named *.jsonl is asked for JSON Lines.
  req.format = f.format.empty() ? (f.output.ends_with(".jsonl") ? recording_encoding::jsonl
                                                                : recording_encoding::v2)
                                : *parse_recording_encoding(f.format);
  if (req.format == recording_encoding::v2 && f.output == "-" && ::isatty(STDOUT_FILENO)) {
    log.error("a v2 recording is binary: name a file with -o, or use --format jsonl");
    return false;
  }
  req.max_samples = f.samples;
  req.workers = f.workers;
  req.quiet = f.quiet;
  if (f.pid) {
    if (!f.command.empty() || !f.workload.empty() || !f.workload_options.empty() || f.workers) {
      log.error(
          "--pid attaches to a running program: give no --workload, --opt, --workers or PROGRAM");
      return false;
    }
    if (*f.pid <= 0) {
      log.error("--pid {}: not a process id", *f.pid);
      return false;
    }
    req.pid = *f.pid;
    return true;
  }
  if (!f.command.empty()) {
    if (!f.workload.empty() || !f.workload_options.empty()) {
      log.error("give either --workload NAME or -- PROGRAM [ARGS...], not both");
      return false;
    }
    try {
      resolve_program(f.command.front());
    } catch (const launch_error& e) {
      log.error("{}", e.what());
      return false;
    }
    req.command = f.command;
    return true;
  }
  if (f.workload.empty()) {
    req.workload = &workloads::default_workload();
    log.debug("no --workload or program given: recording the {} workload", req.workload->name);
  } else {
    req.workload = workloads::find_workload(f.workload);
    if (!req.workload) {
      log.error("unknown workload \"{}\" (built-in: {}; see gprof-id workloads)", f.workload,
                workload_names());
      return false;
    }
  }
  try {
    req.workload_args = workloads::parse_options(
        *req.workload, f.workload_options, [](std::string_view s) { return parse_duration(s); });
  } catch (const workloads::option_error& e) {
    log.error("{}", e.what());
    return false;
  }
  return true;
}

int run_record(const record_flags& f) {
  auto log = make_logger(f);
  record_request req;
  if (!build_request(f, req, *log)) return exit_usage;
  // A closed stdout or output pipe must be a write error we report, not a silent death.
  ::signal(SIGPIPE, SIG_IGN);
  std::unique_ptr<output_file> out;
  try {
    out = std::make_unique<output_file>(f.output, f.force);
  } catch (const output_error& e) {
    log->error("{}", e.what());
    return exit_io_error;
  }
  if (req.pid != 0) return record_attached(req, *out, *log);
  return req.command.empty() ? record_workload(req, *out, *log) : record_program(req, *out, *log);
}

}  // namespace

void add_record_command(CLI::App& app, command_run& run) {
  auto flags = std::make_shared<record_flags>();
  auto* cmd = app.add_subcommand(
      "record",
      "Record goroutine samples of a built-in workload or of a program built on the runtime");
  cmd->footer(
      "Usage: gprof-id record [OPTIONS] [--workload NAME [--opt KEY=VALUE]...]\n"
      "       gprof-id record [OPTIONS] -- PROGRAM [ARGS...]\n"
      "       gprof-id record [OPTIONS] --pid PID   (GPROFID_DEBUG_SOCKET=1, docs/attach.md)\n"
      "Without --workload or PROGRAM it records the default workload (see gprof-id workloads).\n"
      "It records until the workload or program ends, --duration or --samples is reached, or\n"
      "Ctrl-C; the recording always ends with an \"end\" line. Exit statuses: docs/exit-codes.md.");
  cmd->add_option("-o,--output", flags->output, "Recording file ('-' for stdout)")
      ->capture_default_str();
  cmd->add_flag("-f,--force", flags->force, "Overwrite the output file if it exists");
  cmd->add_option("--format", flags->format,
                  "v2 (binary, the default) or jsonl (v1 JSON Lines, also for an output named "
                  "*.jsonl); gprof-id convert turns one into the other")
      ->check(CLI::IsMember({"v2", "jsonl"}));
  cmd->add_option("-i,--interval", flags->interval, "Time between samples (ns, us, ms, s)")
      ->capture_default_str();
  cmd->add_option("-d,--duration", flags->duration, "Stop after this long (e.g. 10s)");
  cmd->add_option("-n,--samples", flags->samples, "Stop after this many samples")
      ->check(whole_number_in(1, max_samples));
  cmd->add_option("--workers", flags->workers, "Runtime worker threads (default: cores)")
      ->check(whole_number_in(1, max_workers));
  cmd->add_option("-w,--workload", flags->workload,
                  "Built-in workload to run (gprof-id workloads)");
  cmd->add_option("--opt", flags->workload_options, "Workload option KEY=VALUE (repeatable)")
      ->type_name("KEY=VALUE");
  cmd->add_option("--first-sample-timeout", flags->first_sample_timeout,
                  "Give up on a PROGRAM that sends no sample within this long")
      ->capture_default_str();
  cmd->add_flag("-v,--verbose", flags->verbose, "Say more on stderr");
  cmd->add_flag("-q,--quiet", flags->quiet, "Only errors and warnings on stderr; no progress line");
  cmd->add_option("--pid", flags->pid,
                  "Attach to this running program's debug socket (docs/attach.md)");
  cmd->add_option("command", flags->command, "PROGRAM [ARGS...] to record (after --)");
  cmd->callback([flags, &run] { run = [flags] { return run_record(*flags); }; });
}

}  // namespace gprofid::cli
