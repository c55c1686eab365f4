// `gprof-id record`: what to record and how, as parsed from the command line, and the two ways
// of recording it (a built-in workload in-process, an external program through a pipe, or a
// running program through its debug socket).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "cli/output_file.hpp"
#include "gprofid/recording/recording_writer.hpp"
#include "workloads/workload.hpp"

namespace gprofid::cli {

struct record_request {
  std::int64_t interval_ns = 100'000'000;
  std::int64_t duration_ns = 0;   // 0: no limit
  std::uint64_t max_samples = 0;  // 0: no limit
  std::size_t workers = 0;        // 0: the runtime's default
  std::int64_t first_sample_timeout_ns = 5'000'000'000;
  bool quiet = false;
  recording_encoding format = recording_encoding::v2;

  // Exactly one of these.
  const workloads::workload* workload = nullptr;
  workloads::workload_args workload_args;
  std::vector<std::string> command;  // PROGRAM ARGS...
  int pid = 0;                       // a running program's, through its debug socket
};

// Both return an exit_status (cli/exit_status.hpp) and write the end line whatever happens.
int record_workload(const record_request& req, output_file& out, spdlog::logger& log);
int record_program(const record_request& req, output_file& out, spdlog::logger& log);
// Records the running program req.pid through its debug socket (docs/attach.md).
int record_attached(const record_request& req, output_file& out, spdlog::logger& log);

}  // namespace gprofid::cli
