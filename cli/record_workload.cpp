// Recording a built-in workload: it runs on a runtime in this process while a periodic sampler
// (a runtime service, so it stops before the workers do) writes the recording.
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <thread>

#include "cli/exit_status.hpp"
#include "cli/interrupts.hpp"
#include "cli/progress.hpp"
#include "cli/record.hpp"
#include "gprofid/clock.hpp"
#include "gprofid/event.hpp"
#include "gprofid/recorder/periodic_sampler.hpp"
#include "gprofid/recorder/profile.hpp"
#include "gprofid/recording/recording_writer.hpp"
#include "gprofid/runtime.hpp"
#include "gprofid/traceback_text.hpp"

namespace gprofid::cli {
namespace {

// How long a stopped workload gets to return before the recording is ended without it.
constexpr std::int64_t stop_grace_ns = 3'000'000'000;

class sampler_service final : public runtime_service {
 public:
  explicit sampler_service(periodic_sampler& s) noexcept : s_(s) {}
  void start(runtime&) override { s_.start(); }
  void stop() override { s_.stop(); }

 private:
  periodic_sampler& s_;
};

// The end line is written once, by whichever of the main thread and the watchdog gets there.
class end_writer {
 public:
  explicit end_writer(recording_writer& w) noexcept : w_(w) {}
  // False if it was already written.
  bool write(const recording_end& e) {
    std::lock_guard guard(m_);
    if (written_) return false;
    written_ = true;
    w_.write_end(e);
    return true;
  }

 private:
  std::mutex m_;
  recording_writer& w_;
  bool written_ = false;
};

}  // namespace

int record_workload(const record_request& req, output_file& out, spdlog::logger& log) {
  const auto& w = *req.workload;
  interrupts sigs;  // before the runtime starts its threads, which inherit the mask
  recording_writer writer(out.fd(), out.name(), req.format);
  end_writer ender(writer);
  std::optional<periodic_sampler> sampler;
  event stop;
  std::mutex failure_m;
  std::string failure;  // what escaped a goroutine, if anything did

  runtime rt({.workers = req.workers,
              .on_exception = exception_policy::log,
              .on_failure = [&](const goroutine_failure& f) {
                {
                  std::lock_guard guard(failure_m);
                  if (failure.empty()) failure = f.what;
                }
                stop.set();
              }});
  try {
    recording_header h = header_for(rt, req.interval_ns);
    h.workload = std::string(w.name);
    h.command_line = {"gprof-id", "record", "--workload", std::string(w.name)};
    writer.write_header(h);
  } catch (const std::exception& e) {
    log.error("{}", e.what());
    out.discard();
    return exit_io_error;
  }
  sampler.emplace(rt, writer,
                  sampler_options{.interval_ns = req.interval_ns,
                                  .max_samples = req.max_samples,
                                  .max_duration_ns = req.duration_ns});
  rt.add_service(std::make_unique<sampler_service>(*sampler));
  log.debug("recording workload {} on {} workers every {}", w.name, rt.workers(),
            format_duration(req.interval_ns));

  const std::int64_t started = monotonic_ns();
  std::atomic<bool> workload_done{false};
  std::atomic<int> interrupted_by{0};
  bool published = false;     // by the controller, read after it is joined
  std::string publish_error;  // likewise
  std::thread controller([&] {
    auto progress = progress_line::for_stderr("workload " + std::string(w.name), req.quiet);
    std::int64_t give_up_at = 0;
    while (!workload_done.load()) {
      if (auto sig = sigs.wait(100)) {
        interrupted_by.store(*sig);
        stop.set();
      }
      if (sampler->finished()) stop.set();
      if (stop.is_set() && give_up_at == 0) give_up_at = monotonic_ns() + stop_grace_ns;
      if (give_up_at != 0 && monotonic_ns() >= give_up_at) {
        // The workload ignores its stop event: end the recording without it and leave.
        progress.clear();
        sampler->stop();
        const bool ours = ender.write({sampler->samples_taken(),
                                       interrupted_by ? end_reason::interrupted : sampler->reason(),
                                       std::nullopt, std::nullopt});
        if (ours) {
          log.error("workload {} did not stop within {}; recording ended without it", w.name,
                    format_duration(stop_grace_ns));
          try {
            if (sampler->samples_taken() > 0) {
              out.close();
            } else {
              out.discard();
            }
          } catch (const output_error& e) {
            log.error("{}", e.what());
          }
          std::_Exit(exit_failure);
        }
        return;
      }
      // From its first sample on, the output holds a readable recording: give it its name.
      if (!published && sampler->samples_taken() > 0) {
        try {
          out.publish();
        } catch (const output_error& e) {
          publish_error = e.what();
          stop.set();
        }
        published = true;
      }
      progress.update(sampler->samples_taken(), monotonic_ns() - started,
                      sampler->last_goroutines());
    }
  });

  std::string main_error;
  try {
    rt.run(w.main({req.workload_args, stop, [&log](const std::string& m) { log.debug("{}", m); }}));
  } catch (const std::exception& e) {
    main_error = e.what();
  } catch (...) {
    main_error = "unknown exception";
  }
  workload_done.store(true);
  controller.join();
  sampler->stop();
  {
    std::lock_guard guard(failure_m);
    if (failure.empty()) failure = main_error;
  }

  recording_end end;
  end.samples = sampler->samples_taken();
  int status = exit_ok;
  if (!publish_error.empty()) {
    log.error("{}", publish_error);
    out.discard();
    return exit_io_error;
  }
  if (end.samples == 0 && !sampler->error()) {
    // Nothing worth a file (e.g. -d 1ns ended it before the first tick): as for a program.
    log.error("no sample of workload {} was taken before the recording ended{}", w.name,
              req.duration_ns > 0 ? " (--duration " + format_duration(req.duration_ns) +
                                        " ended it before the first sample)"
                                  : "");
    out.discard();
    return exit_no_samples;
  }
  if (auto e = sampler->error()) {
    end.reason = end_reason::error;
    status = exit_io_error;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log.error("{}", ex.what());
    }
  } else if (interrupted_by.load() != 0) {
    end.reason = end_reason::interrupted;
  } else if (!failure.empty()) {
    end.reason = end_reason::workload_exited;
    end.exit_status = 1;
    status = exit_workload_failed;
    log.error("workload {} failed: {}", w.name, failure);
  } else if (sampler->finished()) {
    end.reason = sampler->reason();
  }
  try {
    ender.write(end);
    out.close();
  } catch (const std::exception& e) {
    if (status == exit_ok) log.error("{}", e.what());
    return exit_io_error;
  }
  if (status == exit_ok) {
    log.info("recorded {} samples of workload {} to {} ({})", end.samples, w.name, out.name(),
             to_string(end.reason));
  }
  return status;
}

}  // namespace gprofid::cli
