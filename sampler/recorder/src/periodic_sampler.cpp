#include "gprofid/recorder/periodic_sampler.hpp"

#include <time.h>

#include <algorithm>
#include <chrono>

#include "gprofid/clock.hpp"
#include "gprofid/recorder/profile.hpp"

namespace gprofid {
namespace {

std::int64_t thread_cpu_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Adds the time since `since` to `into` and moves `since` on: one clock read per phase.
void lap(std::int64_t& into, std::int64_t& since) noexcept {
  const std::int64_t now = monotonic_ns();
  into += now - since;
  since = now;
}

}  // namespace

periodic_sampler::periodic_sampler(runtime& rt, recording_writer& out, sampler_options options)
    : rt_(rt), out_(out), options_(options) {
  cursor_.set_graph_limit(options_.delta_graph_limit);
  cursor_.set_keep_frames(options_.keep_frames);
}

periodic_sampler::~periodic_sampler() {
  stop();
}

void periodic_sampler::start() {
  thread_ = std::thread([this] { run(); });
}

void periodic_sampler::stop() {
  {
    std::lock_guard guard(m_);
    stop_requested_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  cursor_.release();  // while the runtime lives: the sampler may be destroyed after it
}

void periodic_sampler::wait() {
  std::unique_lock lock(m_);
  cv_.wait(lock, [&] { return finished_ || stop_requested_; });
}

bool periodic_sampler::finished() const {
  std::lock_guard guard(m_);
  return finished_;
}

end_reason periodic_sampler::reason() const {
  std::lock_guard guard(m_);
  return reason_;
}

std::exception_ptr periodic_sampler::error() const {
  std::lock_guard guard(m_);
  return error_;
}

sampler_stats periodic_sampler::stats() const {
  std::lock_guard guard(m_);
  return stats_;
}

void periodic_sampler::run() {
  using clock = std::chrono::steady_clock;
  const auto interval = std::chrono::nanoseconds(std::max<std::int64_t>(options_.interval_ns, 1));
  const auto started = clock::now();
  const auto deadline = options_.max_duration_ns > 0
                            ? started + std::chrono::nanoseconds(options_.max_duration_ns)
                            : clock::time_point::max();
  auto next = started;
  end_reason why = end_reason::completed;
  std::exception_ptr failure;
  std::uint64_t seq = 0;
  while (true) {
    {
      std::unique_lock lock(m_);
      stats_ = running_stats_;
      // Ticks are on a fixed grid from the start, so a slow sample does not shift later ones.
      const auto wake = std::min(next, deadline);
      cv_.wait_until(lock, wake, [&] { return stop_requested_; });
      if (stop_requested_) break;
    }
    if (clock::now() >= deadline) {
      why = end_reason::duration;
      break;
    }
    try {
      timed_sample(seq++);
    } catch (...) {
      failure = std::current_exception();
      why = end_reason::error;
      break;
    }
    if (options_.max_samples != 0 && seq >= options_.max_samples) {
      why = end_reason::samples;
      break;
    }
    next += interval;
    const auto now = clock::now();
    // A sample that ran past the next tick: that tick is taken at once, late, and any later one
    // that also passed is dropped (as Go's time.Ticker keeps one tick in its channel), so one
    // slow sample (a refresh, a keyframe) costs no tick, and a long stall does not fire missed
    // ticks back to back.
    if (next < now) {
      const auto behind = (now - next) / interval;
      running_stats_.missed_ticks += static_cast<std::uint64_t>(behind);
      next += behind * interval;
    }
  }
  {
    std::lock_guard guard(m_);
    finished_ = true;
    stats_ = running_stats_;
    reason_ = why;
    error_ = failure;
  }
  cv_.notify_all();
}

void periodic_sampler::sample_now() {
  timed_sample(samples_taken());
  std::lock_guard guard(m_);
  stats_ = running_stats_;
}

void periodic_sampler::timed_sample(std::uint64_t seq) {
  const std::int64_t t0 = monotonic_ns();
  const std::int64_t cpu0 = thread_cpu_ns();
  take_sample(seq);
  const std::int64_t took = monotonic_ns() - t0;
  sampler_stats& st = running_stats_;
  ++st.samples;
  st.busy_ns += took;
  st.cpu_ns += thread_cpu_ns() - cpu0;
  st.max_sample_ns = std::max(st.max_sample_ns, took);
  samples_.fetch_add(1, std::memory_order_relaxed);
}

void periodic_sampler::take_sample(std::uint64_t seq) {
  sampler_stats& st = running_stats_;
  std::int64_t t = monotonic_ns();
  if (!options_.incremental) {
    snapshot snap = rt_.take_snapshot();
    lap(st.snapshot_ns, t);
    sample s = to_sample(snap, rt_.started_ns(), sym_);
    snap = snapshot{};  // as below: not held while encoding
    s.seq = seq;
    lap(st.symbolise_ns, t);
    out_.write_sample(s, sym_.tables(), sym_.take_new());
    lap(st.write_ns, t);
    ++st.full;
    st.records += s.goroutines.size();
    last_count_.store(s.goroutines.size(), std::memory_order_relaxed);
    return;
  }
  // A delta with the graph needs no refresh; past the cursor's graph limit one comes every
  // graph_interval_ns (and finds out whether the graph is small again).
  const bool refresh =
      seq > 0 && !last_had_graph_ && monotonic_ns() - last_full_ns_ >= options_.graph_interval_ns;
  snapshot_delta raw = rt_.take_snapshot_delta(cursor_, refresh);
  lap(st.snapshot_ns, t);
  st.records += raw.changes.goroutines.size();
  st.waits += raw.waits.size();
  if (raw.full) stacks_.clear();
  sample part = options_.keep_frames ? to_sample(raw.changes, rt_.started_ns(), sym_, stacks_)
                                     : to_sample(raw.changes, rt_.started_ns(), sym_);
  for (const std::uint64_t id : raw.exited) stacks_.erase(id);  // unknown ids: nothing
  // The runtime's records are in `part` now: freed before encoding, which keeps its own state,
  // so a full sample of 10^6 goroutines does not hold both at once (~130 MB).
  raw.changes = snapshot{};
  part.seq = seq;
  lap(st.symbolise_ns, t);
  last_had_graph_ = raw.full || raw.graph;
  // v2's encoder keeps the previous sample itself (and makes keyframes from it); v1 has only
  // full samples, made from the state kept here.
  const bool keep_state = out_.encoding() != recording_encoding::v2;
  if (raw.full) {
    ++st.full;
    if (keep_state) state_.reset(part);
    lap(st.apply_ns, t);
    out_.write_sample(part, sym_.tables(), sym_.take_new());
    lap(st.write_ns, t);
    // The next refresh is due graph_interval_ns after this one ended, not began: a full sample
    // that takes longer than the interval (100k goroutines on a loaded machine) must not make
    // every sample a full one.
    last_full_ns_ = t;
    last_count_.store(part.goroutines.size(), std::memory_order_relaxed);
    return;
  }
  sample_delta d{part.seq,
                 part.time_ns,
                 part.duration_ns,
                 part.pause_ns,
                 std::move(part.goroutines),
                 std::move(raw.exited),
                 raw.graph,
                 std::move(part.objects)};
  std::sort(d.exited.begin(), d.exited.end());
  // The unchanged goroutines whose wait entered or left the graph (sorted by id, as d.waits).
  // Without a graph, changed goroutines carry no blocked_on; the others keep theirs, and the
  // sample keeps the last graph.
  d.waits.reserve(raw.waits.size());
  for (const auto& e : raw.waits) d.waits.push_back({e.id, e.blocked_on});
  std::size_t goroutines = 0;
  if (keep_state) {
    state_.apply(d);
    lap(st.apply_ns, t);
    state_.materialise(scratch_);
    out_.write_sample(scratch_, sym_.tables(), sym_.take_new());
    goroutines = state_.size();
  } else {
    goroutines = out_.write_delta(d, sym_.tables());
  }
  lap(st.write_ns, t);
  last_count_.store(goroutines, std::memory_order_relaxed);
}

recording_session::recording_session(runtime& rt, recording_writer out,
                                     const recording_options& options)
    : out_(std::move(out)) {
  recording_header h = header_for(rt, options.sampling.interval_ns);
  h.workload = options.workload;
  h.command_line = options.command_line;
  out_.write_header(h);
  sampler_ = std::make_unique<periodic_sampler>(rt, out_, options.sampling);
  sampler_->start();
}

recording_session::~recording_session() {
  try {
    stop();
  } catch (...) {
    // A destructor cannot report it; call stop() to see write errors.
  }
}

void recording_session::stop(end_reason reason) {
  if (stopped_) return;
  stopped_ = true;
  sampler_->stop();
  // A limit the sampler reached, or its failure, says more than the caller's reason.
  end_reason why = sampler_->finished() ? sampler_->reason() : reason;
  if (why == end_reason::completed) why = reason;
  if (auto e = sampler_->error()) {
    try {
      out_.write_end({sampler_->samples_taken(), end_reason::error, std::nullopt, std::nullopt});
    } catch (...) {
    }
    std::rethrow_exception(e);
  }
  out_.write_end({sampler_->samples_taken(), why, std::nullopt, std::nullopt});
}

std::unique_ptr<recording_session> start_recording(runtime& rt, const std::string& path,
                                                   const recording_options& options) {
  return std::make_unique<recording_session>(rt, recording_writer::create(path, options.format),
                                             options);
}

std::unique_ptr<recording_session> start_recording(runtime& rt, int fd,
                                                   const recording_options& options) {
  return std::make_unique<recording_session>(rt, recording_writer(fd, {}, options.format), options);
}

}  // namespace gprofid
