#include "gprofid/recorder/periodic_sampler.hpp"

#include <algorithm>
#include <chrono>

#include "gprofid/clock.hpp"
#include "gprofid/recorder/profile.hpp"

namespace gprofid {

periodic_sampler::periodic_sampler(runtime& rt, recording_writer& out, sampler_options options)
    : rt_(rt), out_(out), options_(options) {
  cursor_.set_graph_limit(options_.delta_graph_limit);
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
      take_sample(seq++);
      samples_.fetch_add(1, std::memory_order_relaxed);
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
    // After a stall (e.g. a huge sample), skip missed ticks rather than firing them back to back.
    if (next < now) next = now + interval - (now - next) % interval;
  }
  {
    std::lock_guard guard(m_);
    finished_ = true;
    reason_ = why;
    error_ = failure;
  }
  cv_.notify_all();
}

void periodic_sampler::take_sample(std::uint64_t seq) {
  if (!options_.incremental) {
    sample s = goroutine_profile_with_id(rt_, sym_);
    s.seq = seq;
    out_.write_sample(s, sym_.tables(), sym_.take_new());
    last_count_.store(s.goroutines.size(), std::memory_order_relaxed);
    return;
  }
  // A delta with the graph needs no refresh; past the cursor's graph limit one comes every
  // graph_interval_ns (and finds out whether the graph is small again).
  const bool refresh =
      seq > 0 && !last_had_graph_ && monotonic_ns() - last_full_ns_ >= options_.graph_interval_ns;
  snapshot_delta raw = rt_.take_snapshot_delta(cursor_, refresh);
  sample part = to_sample(raw.changes, rt_.started_ns(), sym_);
  part.seq = seq;
  last_had_graph_ = raw.full || raw.graph;
  if (raw.full) {
    last_full_ns_ = raw.changes.started_ns;
    state_.reset(part);
    out_.write_sample(part, sym_.tables(), sym_.take_new());
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
  if (raw.graph) {
    // The unchanged goroutines whose wait entered or left the graph are changed records too.
    std::vector<goroutine_sample> moved;
    for (const auto& e : raw.waits) {
      if (auto g = state_.set_blocked_on(e.id, e.blocked_on, d.time_ns)) moved.push_back(*g);
    }
    if (!moved.empty()) {
      const auto middle = d.changed.insert(d.changed.end(), moved.begin(), moved.end());
      std::inplace_merge(
          d.changed.begin(), middle, d.changed.end(),
          [](const goroutine_sample& a, const goroutine_sample& b) { return a.id < b.id; });
    }
  }
  // Without a graph, changed goroutines carry no blocked_on; the others keep theirs, and the
  // sample keeps the last graph.
  state_.apply(d);
  if (out_.wants_full_sample(d.time_ns)) {
    state_.materialise(scratch_);
    out_.write_sample(scratch_, sym_.tables(), sym_.take_new());
  } else {
    out_.write_delta(d, state_.size(), sym_.tables());
  }
  last_count_.store(state_.size(), std::memory_order_relaxed);
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
