// Recording a running program through its debug socket (`gprof-id record --pid PID`): the
// program's debug service writes the recording, end line included; we copy it to the output
// line by line. Ctrl-C half-closes the connection, which makes the service end the recording.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <string_view>
#include <system_error>

#include "cli/attach.hpp"
#include "cli/exit_status.hpp"
#include "cli/interrupts.hpp"
#include "cli/line_relay.hpp"
#include "cli/progress.hpp"
#include "cli/record.hpp"
#include "gprofid/clock.hpp"
#include "gprofid/recording/recording_writer.hpp"

namespace gprofid::cli {
namespace {

// The reason of an end line the writer wrote ({"type":"end",...,"reason":"duration",...}).
std::string end_reason_of(std::string_view line) {
  constexpr std::string_view key = "\"reason\":\"";
  const auto at = line.find(key);
  if (at == std::string_view::npos) return "?";
  const auto from = at + key.size();
  return std::string(line.substr(from, line.find('"', from) - from));
}

}  // namespace

int record_attached(const record_request& req, output_file& out, spdlog::logger& log) {
  interrupts sigs;
  debug_request r;
  r.what = debug_request::kind::record;
  r.interval_ns = req.interval_ns;
  r.duration_ns = req.duration_ns;
  r.max_samples = req.max_samples;
  std::optional<attachment> a;
  try {
    a.emplace(req.pid, r);
  } catch (const attach_error& e) {
    log.error("{}", e.what());
    out.discard();
    return exit_failure;
  }
  const std::string what = "process " + std::to_string(req.pid) + " (" + a->name() + ")";
  line_relay relay(out.fd());
  auto progress = progress_line::for_stderr(what, req.quiet);
  const std::int64_t started = monotonic_ns();
  bool interrupted = false;
  try {
    relay.feed(a->received());
    ::fcntl(a->fd(), F_SETFL, ::fcntl(a->fd(), F_GETFL) | O_NONBLOCK);
    while (true) {
      pollfd fds[2] = {{sigs.fd(), POLLIN, 0}, {a->fd(), POLLIN, 0}};
      if (::poll(fds, 2, 200) < 0 && errno != EINTR) break;
      if (auto sig = sigs.take()) {
        if (!interrupted) log.debug("got signal {}, ending the recording", *sig);
        interrupted = true;
        a->finish();
      }
      const bool more = relay.pump(a->fd());
      // From its first sample on, the output holds a readable recording: give it its name.
      if (relay.samples() > 0) out.publish();
      if (!more) break;
      progress.update(relay.samples(), monotonic_ns() - started, 0);
    }
  } catch (const std::system_error& e) {
    progress.clear();
    log.error("cannot write {}: {}", out.name(), e.code().message());
    out.discard();
    return exit_io_error;
  } catch (const output_error& e) {
    progress.clear();
    log.error("{}", e.what());
    out.discard();
    return exit_io_error;
  }
  progress.clear();
  if (relay.pending() > 0) log.warn("dropped an incomplete last line ({} bytes)", relay.pending());
  if (relay.samples() == 0) {
    log.error("{} sent no sample", what);
    out.discard();
    return exit_no_samples;
  }
  int status = exit_ok;
  std::string reason;
  try {
    if (!relay.end_line().empty()) {
      relay.write_through(relay.end_line());
      reason = end_reason_of(relay.end_line());
    } else {
      // The program died (or its service failed) without ending the recording: we end it.
      const bool gone = ::kill(req.pid, 0) != 0 && errno == ESRCH;
      recording_end end;
      end.samples = relay.samples();
      end.reason = gone ? end_reason::workload_killed : end_reason::error;
      recording_writer(out.fd(), out.name()).write_end(end);
      reason = std::string(to_string(end.reason));
      log.error("{} {}; the recording in {} ends there", what,
                gone ? "ended without closing the recording" : "closed the connection mid-line",
                out.name());
      status = gone ? exit_workload_failed : exit_failure;
    }
    out.close();
  } catch (const std::exception& e) {
    log.error("{}", e.what());
    return exit_io_error;
  }
  log.info("recorded {} samples of {} to {} ({})", relay.samples(), what, out.name(), reason);
  return status;
}

}  // namespace gprofid::cli
