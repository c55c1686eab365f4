// Recording an external program: it is started with GPROFID_RECORD_FD naming a pipe, its
// runtime (linked with gprofid::gprofid, see sampler/auto_record.hpp) writes the recording
// there, and we copy it to the output line by line, then append the end line.
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <system_error>

#include "cli/exit_status.hpp"
#include "cli/interrupts.hpp"
#include "cli/launch.hpp"
#include "cli/line_relay.hpp"
#include "cli/progress.hpp"
#include "cli/record.hpp"
#include "gprofid/clock.hpp"
#include "gprofid/environment.hpp"
#include "gprofid/recording/recording_writer.hpp"
#include "gprofid/traceback_text.hpp"

namespace gprofid::cli {
namespace {

// How long a program gets to exit after SIGTERM (or a forwarded Ctrl-C) before SIGKILL.
constexpr std::int64_t exit_grace_ns = 2'000'000'000;
// A process closes its files before it becomes a zombie: a channel that reached its end without
// the program's end line is only "closed by the program" if the program is still running after
// this long.
constexpr std::int64_t exit_settle_ns = 200'000'000;

// One error line naming what the relay refused (lines of the program that are not recording
// lines, bytes of other processes); true if it refused anything.
bool report_rejected(const line_relay& relay, const std::string& program, pid_t pid,
                     const std::string& output, spdlog::logger& log) {
  std::string what;
  if (relay.rejected_lines() > 0) {
    const bool one = relay.rejected_lines() == 1;
    what = "rejected " + std::to_string(relay.rejected_lines()) + (one ? " line" : " lines") +
           " from " + program + " that " + (one ? "is" : "are") + " not part of a recording (" +
           relay.first_rejected() + ")";
  }
  if (!relay.intruders().empty()) {
    std::string pids;
    for (pid_t p : relay.intruders()) pids += (pids.empty() ? "" : ", ") + std::to_string(p);
    const std::string owner =
        relay.owner() == pid ? program
                             : "pid " + std::to_string(relay.owner()) + ", started by " + program;
    what += (what.empty() ? "rejected " : "; and ") + std::to_string(relay.intruder_bytes()) +
            " bytes written to the recording channel by pid " + pids + " (" + owner +
            " owns it): another process that inherited GPROFID_RECORD_FD";
  }
  if (what.empty()) return false;
  log.error("{}; {} holds only what was accepted", what, output);
  return true;
}

std::vector<std::pair<std::string, std::string>> recording_environment(const record_request& req) {
  std::vector<std::pair<std::string, std::string>> env = {
      {std::string(gprofid::environment::interval_ns), std::to_string(req.interval_ns)},
  };
  if (req.max_samples > 0)
    env.emplace_back(std::string(gprofid::environment::max_samples),
                     std::to_string(req.max_samples));
  if (req.duration_ns > 0)
    env.emplace_back(std::string(gprofid::environment::duration_ns),
                     std::to_string(req.duration_ns));
  if (req.workers > 0)
    env.emplace_back(std::string(gprofid::environment::workers), std::to_string(req.workers));
  env.emplace_back(std::string(gprofid::environment::record_format),
                   std::string(to_string(req.format)));
  return env;
}

}  // namespace

int record_program(const record_request& req, output_file& out, spdlog::logger& log) {
  interrupts sigs;
  const std::string& program = req.command.front();
  std::optional<child_process> child;
  try {
    child.emplace(
        child_process::launch(req.command, recording_environment(req), out.fd() == STDOUT_FILENO));
  } catch (const launch_error& e) {
    log.error("{}", e.what());
    out.discard();
    return exit_usage;
  } catch (const std::system_error& e) {
    log.error("cannot start {}: {}", program, e.what());
    out.discard();
    return exit_failure;
  }
  log.debug("started {} (pid {}), interval {}", program, child->pid(),
            format_duration(req.interval_ns));

  line_relay relay(out.fd());
  auto progress = progress_line::for_stderr(program, req.quiet);
  const std::int64_t started = monotonic_ns();
  std::optional<end_reason> stopped_because;  // set when we ended it, not the program
  std::optional<int> interrupt;
  std::int64_t kill_at = 0;  // when a stopping program gets SIGKILL
  bool write_failed = false;
  std::int64_t cut_at = 0;      // when the channel ended before the program's end line
  bool channel_closed = false;  // ... and the program went on running

  auto stop = [&](end_reason why, int sig) {
    if (stopped_because) return;
    stopped_because = why;
    child->kill(sig);
    kill_at = monotonic_ns() + exit_grace_ns;
  };

  while (true) {
    pollfd fds[2] = {{sigs.fd(), POLLIN, 0}, {child->recording_fd(), POLLIN, 0}};
    const nfds_t n = child->recording_fd() >= 0 ? 2 : 1;
    if (::poll(fds, n, 50) < 0 && errno != EINTR) break;
    if (auto sig = sigs.take()) {
      if (!interrupt) log.debug("got signal {}, stopping {}", *sig, program);
      interrupt = sig;
      // A Ctrl-C in the terminal reached the program too; a kill aimed at us did not.
      stop(end_reason::interrupted, *sig);
    }
    if (child->recording_fd() >= 0) {
      try {
        if (!relay.pump(child->recording_fd())) {
          child->close_recording_fd();
          if (relay.saw_header() && !relay.saw_end()) cut_at = monotonic_ns();
        }
        // From its first sample on, the output holds a readable recording: give it its name.
        if (relay.samples() > 0) out.publish();
      } catch (const std::system_error& e) {
        log.error("cannot write {}: {}", out.name(), e.code().message());
        write_failed = true;
      } catch (const output_error& e) {
        log.error("{}", e.what());
        write_failed = true;
      }
      if (write_failed) {
        child->close_recording_fd();
        child->kill(SIGKILL);
        break;
      }
    }
    const std::int64_t now = monotonic_ns();
    if (req.max_samples > 0 && relay.samples() >= req.max_samples) {
      stop(end_reason::samples, SIGTERM);
    }
    if (req.duration_ns > 0 && now - started >= req.duration_ns)
      stop(end_reason::duration, SIGTERM);
    if (relay.samples() == 0 && !stopped_because && now - started >= req.first_sample_timeout_ns) {
      progress.clear();
      log.error(
          "no sample from {} within {}: is it built on the gprof-id runtime and linked with "
          "gprofid::gprofid? (stopped it; --first-sample-timeout changes the wait)",
          program, format_duration(req.first_sample_timeout_ns));
      child->kill(SIGKILL);
      child->wait_or_kill(std::chrono::milliseconds(0));
      stop_descendants(std::chrono::milliseconds(0));
      out.discard();
      return exit_no_samples;
    }
    if (cut_at != 0 && !channel_closed && !stopped_because && now - cut_at >= exit_settle_ns &&
        !child->try_wait()) {
      progress.clear();
      log.error(
          "{} closed the recording channel (GPROFID_RECORD_FD) after {} samples, before "
          "its recording ended; stopping it ({} holds what it sent)",
          program, relay.samples(), out.name());
      channel_closed = true;
      stop(end_reason::error, SIGTERM);
    }
    if (kill_at != 0 && now >= kill_at) {
      log.warn("{} did not exit within {} of being stopped; killing it", program,
               format_duration(exit_grace_ns));
      child->kill(SIGKILL);
      kill_at = 0;
    }
    if (child->try_wait()) {
      // Whatever it wrote before exiting is in the pipe: take it, unless a descendant keeps the
      // pipe open, in which case we stop reading.
      if (child->recording_fd() >= 0) {
        try {
          relay.pump(child->recording_fd());
        } catch (const std::system_error& e) {
          log.error("cannot write {}: {}", out.name(), e.code().message());
          write_failed = true;
        }
      }
      break;
    }
    progress.update(relay.samples(), now - started, 0);
  }
  progress.clear();
  const child_exit how = child->wait_or_kill(std::chrono::milliseconds(0));
  child->close_recording_fd();
  // What the program started and left behind must not outlive the recording (nor keep writing
  // to the channel it inherited).
  if (const auto left = stop_descendants(std::chrono::milliseconds(exit_grace_ns / 1'000'000))) {
    log.warn("{} left {} process{} running; stopped {}", program, left, left == 1 ? "" : "es",
             left == 1 ? "it" : "them");
  }
  if (write_failed) {
    out.discard();
    return exit_io_error;
  }
  if (relay.pending() > 0) {
    log.warn("dropped an incomplete last line ({} bytes) from {}", relay.pending(), program);
  }
  const bool rejected = report_rejected(relay, program, child->pid(), out.name(), log);
  if (relay.samples() == 0) {
    log.error(
        "{} ended ({}) without sending a sample: is it built on the gprof-id runtime and "
        "linked with gprofid::gprofid?",
        program, describe(how));
    out.discard();
    return exit_no_samples;
  }

  recording_end end;
  end.samples = relay.samples();
  end.exit_status = how.exit_status;
  end.signal = how.signal;
  int status = exit_ok;
  if (stopped_because) {
    end.reason = *stopped_because;
  } else if (how.signal) {
    end.reason = end_reason::workload_killed;
    status = exit_workload_failed;
  } else if (how.exit_status != 0) {
    end.reason = end_reason::workload_exited;
    status = exit_workload_failed;
  }
  // The file holds only what was accepted, but the run did not record what the program sent.
  if ((rejected || channel_closed) && status == exit_ok) status = exit_bad_input;
  try {
    // In the format the program streamed (a program of an older gprof-id may ignore ours).
    recording_writer writer(out.fd(), out.name(),
                            relay.binary() ? recording_encoding::v2 : recording_encoding::jsonl);
    writer.write_end(end);
    out.close();
  } catch (const std::exception& e) {
    log.error("{}", e.what());
    return exit_io_error;
  }
  if (status == exit_bad_input) {
    log.error("the recording in {} is valid but incomplete ({} samples)", out.name(), end.samples);
    return status;
  }
  if (status == exit_workload_failed) {
    log.error("{} failed ({}); the recording in {} ends there", program, describe(how), out.name());
  }
  log.info("recorded {} samples of {} to {} ({})", end.samples, program, out.name(),
           to_string(end.reason));
  return status;
}

}  // namespace gprofid::cli
