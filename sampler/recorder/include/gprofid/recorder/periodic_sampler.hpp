// Takes GoroutineProfileWithID every interval on its own thread and writes each sample to a
// recording, until stopped or a sample count or duration is reached. start_recording() wraps
// it with the header and end lines, like Go's pprof.StartCPUProfile / StopCPUProfile.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "gprofid/recorder/symbolizer.hpp"
#include "gprofid/recording/id_table.hpp"
#include "gprofid/recording/recording_format.hpp"
#include "gprofid/recording/recording_writer.hpp"
#include "gprofid/recording/sample_state.hpp"
#include "gprofid/runtime.hpp"

namespace gprofid {

struct sampler_options {
  std::int64_t interval_ns = 100'000'000;  // the first sample is taken at once
  std::uint64_t max_samples = 0;           // 0: no limit
  std::int64_t max_duration_ns = 0;        // 0: no limit; measured from start()
  // Incremental snapshots (docs/snapshot.md): each sample costs what changed since the previous
  // one; false takes a full snapshot every time.
  bool incremental = true;
  // Incremental: each delta carries the wait-for graph while at most this many goroutines are
  // parked on a graph object (change_cursor::set_graph_limit; docs/wait-graph.md, "How fresh the
  // graph is"); 0: never.
  std::size_t delta_graph_limit = 1'000;
  // Incremental, while deltas carry no graph (past the limit): a full snapshot, with the graph,
  // this long after the previous full one ended; in between, samples keep its graph.
  std::int64_t graph_interval_ns = 1'000'000'000;
  // Incremental: the runtime hands over no frames of a changed goroutine whose frames did not
  // move (change_cursor::set_keep_frames); the sampler keeps each goroutine's stack instead. The
  // same recording either way; false copies and symbolises every changed goroutine's stack.
  bool keep_frames = true;
};

// Where the sampler's time went, summed over its samples (wall clock on the sampler thread;
// cpu_ns is that thread's CPU time, so busy - cpu is time it waited for a core). For
// benchmarks and progress; read with periodic_sampler::stats().
struct sampler_stats {
  std::uint64_t samples = 0;
  std::uint64_t full = 0;          // full snapshots (the first, graph refreshes, incremental off)
  std::uint64_t records = 0;       // goroutine records the runtime handed over (all of a full one)
  std::uint64_t waits = 0;         // deltas with the graph: wait edges of unchanged goroutines read
  std::uint64_t missed_ticks = 0;  // ticks skipped because a sample ran past them
  std::int64_t snapshot_ns = 0;    // the runtime's snapshot or delta (graph included)
  std::int64_t symbolise_ns = 0;   // to_sample: records to table indices
  std::int64_t apply_ns = 0;       // v1: the kept state brought up to date (v2: in write_ns)
  std::int64_t write_ns = 0;       // encoding and writing
  std::int64_t busy_ns = 0;        // the whole of every sample
  std::int64_t cpu_ns = 0;         // the sampler thread's CPU time in samples
  std::int64_t max_sample_ns = 0;  // the longest sample
};

class periodic_sampler {
 public:
  // Samples `rt` into `out`, numbering samples from 0. Both must outlive the sampler.
  periodic_sampler(runtime& rt, recording_writer& out, sampler_options options);
  ~periodic_sampler();  // stop()
  periodic_sampler(const periodic_sampler&) = delete;
  periodic_sampler& operator=(const periodic_sampler&) = delete;

  void start();
  // Takes one sample now on the calling thread, numbered after the last: for a sampler that was
  // not started (benchmarks drive it by hand). Throws what writing throws.
  void sample_now();
  // Stops promptly (an in-progress sample is finished) and joins the thread. Idempotent. Call it
  // before the runtime is destroyed (it stops the runtime's change tracking).
  void stop();
  // Blocks until the sampler finishes by itself (sample count, duration, or an error) or stop().
  void wait();
  bool finished() const;

  // For progress lines; safe from any thread.
  std::uint64_t samples_taken() const noexcept { return samples_.load(std::memory_order_relaxed); }
  std::size_t last_goroutines() const noexcept {
    return last_count_.load(std::memory_order_relaxed);
  }
  // Safe from any thread (a copy taken under the sampler's lock between samples).
  sampler_stats stats() const;

  // Why it finished: samples, duration, error, or completed when stopped. Valid after stop().
  end_reason reason() const;
  // The write error that finished it, if any (also reported as reason() == error).
  std::exception_ptr error() const;

 private:
  void run();
  // Takes and writes one sample: full, or what changed since the previous one.
  void take_sample(std::uint64_t seq);
  // take_sample, timed into running_stats_.
  void timed_sample(std::uint64_t seq);

  runtime& rt_;
  recording_writer& out_;
  sampler_options options_;
  symbolizer sym_;
  change_cursor cursor_;  // released by stop(), which must run while rt_ lives
  sample_state state_;    // incremental v1: the last sample (v2's encoder keeps its own)
  id_table stacks_;       // keep_frames: each goroutine's table stack at the last sample
  std::int64_t last_full_ns_ = 0;
  bool last_had_graph_ = false;  // the previous sample's graph is as of its instant
  sample scratch_;               // incremental v1: the sample made from state_
  sampler_stats running_stats_;  // the sampler thread's own; published into stats_ under m_
  std::atomic<std::uint64_t> samples_{0};
  std::atomic<std::size_t> last_count_{0};

  // Guards what follows it; the sampler thread holds it only between samples.
  mutable std::mutex m_;
  std::condition_variable cv_;
  bool stop_requested_ = false;
  bool finished_ = false;
  end_reason reason_ = end_reason::completed;
  std::exception_ptr error_;
  sampler_stats stats_;  // guarded by m_
  std::thread thread_;
};

struct recording_options {
  sampler_options sampling{};
  std::string workload{};                   // recorded in the header
  std::vector<std::string> command_line{};  // recorded in the header
  recording_encoding format = recording_encoding::jsonl;
};

// An in-program recording in progress. stop() (or the destructor) stops sampling and writes the
// end line. Must be stopped before the runtime is destroyed.
class recording_session {
 public:
  recording_session(runtime& rt, recording_writer out, const recording_options& options);
  ~recording_session();
  recording_session(recording_session&&) = delete;
  recording_session(const recording_session&) = delete;

  // Idempotent. Throws the write error, if sampling or writing the end line failed.
  void stop(end_reason reason = end_reason::completed);
  // Blocks until a sample-count or duration limit ends sampling.
  void wait() { sampler_->wait(); }
  const periodic_sampler& sampler() const noexcept { return *sampler_; }

 private:
  recording_writer out_;
  std::unique_ptr<periodic_sampler> sampler_;
  bool stopped_ = false;
};

// Starts recording `rt` to a new file at `path`, or to `fd` (not closed). Writes the header at
// once; throws std::system_error if the file cannot be created or written.
std::unique_ptr<recording_session> start_recording(runtime& rt, const std::string& path,
                                                   const recording_options& options = {});
std::unique_ptr<recording_session> start_recording(runtime& rt, int fd,
                                                   const recording_options& options = {});

}  // namespace gprofid
