#include "gprofid/analysis/export_trace.hpp"

#include <algorithm>
#include <set>
#include <string>

namespace gprofid {
namespace {

using nlohmann::json;

// Counters live on their own process; spawn site i is process i + 1.
constexpr std::int64_t counter_pid = 0;
constexpr std::int64_t no_previous_sample_end_ns = 1'000'000;

std::int64_t site_pid(std::uint32_t site) {
  return static_cast<std::int64_t>(site) + 1;
}

// Trace-event timestamps are microseconds; fractions keep nanosecond precision.
double micros(std::int64_t ns) {
  return static_cast<double>(ns) / 1000.0;
}

bool same_labels(const label_ptr& a, const label_ptr& b) {
  if (a == b) return true;
  bool a_empty = !a || a->empty(), b_empty = !b || b->empty();
  if (a_empty || b_empty) return a_empty == b_empty;
  return *a == *b;
}

std::string frame_text(const code_location& f) {
  return f.function + " " + f.file + ":" + std::to_string(f.line);
}

json metadata(const char* name, std::int64_t pid, std::uint64_t tid, json args) {
  return {{"name", name}, {"ph", "M"}, {"pid", pid}, {"tid", tid}, {"args", std::move(args)}};
}

}  // namespace

void trace_builder::observe(track& t, const goroutine_sample& g, std::int64_t now) {
  segment* last = t.open ? &t.segments.back() : nullptr;
  if (g.state == goroutine_state::dead) {
    if (last) last->end_ns = now;
    t.open = false;
    t.exited = true;
    t.exit_ns = now;
    return;
  }
  const bool waiting = g.state == goroutine_state::waiting;
  // A wait that began after the previous sample is a new wait, even in the same place.
  const bool same_wait = !waiting || g.wait_ns >= now - prev_ns_;
  if (last && last->state == g.state && last->reason == g.reason && last->stack == g.stack &&
      same_labels(last->labels, g.labels) && same_wait) {
    last->end_ns = now;
    return;
  }
  std::int64_t start = now;
  if (last) {
    if (waiting) start = std::clamp(now - g.wait_ns, last->end_ns, now);
    last->end_ns = start;
  } else {
    start = std::max(samples_ > 1 ? prev_ns_ : std::int64_t{0}, g.created_ns);
    if (waiting) start = std::max(start, now - g.wait_ns);
    start = std::max<std::int64_t>(0, std::min(start, now));
  }
  t.segments.push_back({start, now, g.state, g.reason, g.stack, g.labels});
  t.open = true;
}

void trace_builder::add(const sample& s) {
  const std::int64_t now = s.time_ns;
  prev_ns_ = samples_ == 0 ? now : last_ns_;
  last_ns_ = now;
  ++samples_;

  counts c{.time_ns = now};
  std::vector<std::uint64_t> open_now;
  open_now.reserve(s.goroutines.size());
  for (const goroutine_sample& g : s.goroutines) {
    auto [it, inserted] = tracks_.try_emplace(g.id);
    track& t = it->second;
    if (inserted) {
      t.parent_id = g.parent_id;
      t.site = g.site;
      t.created_ns = g.created_ns;
    }
    if (t.exited) continue;  // ids are never reused; a dead goroutine stays dead
    observe(t, g, now);
    if (!t.open) continue;
    open_now.push_back(g.id);
    switch (g.state) {
      case goroutine_state::running:
        ++c.running;
        break;
      case goroutine_state::runnable:
        ++c.runnable;
        break;
      case goroutine_state::waiting:
        ++c.waiting;
        break;
      case goroutine_state::dead:
        break;
    }
  }
  // Goroutines open before this sample and missing from it have exited.
  std::vector<std::uint64_t> gone;
  std::set_difference(open_.begin(), open_.end(), open_now.begin(), open_now.end(),
                      std::back_inserter(gone));
  for (std::uint64_t id : gone) {
    track& t = tracks_.at(id);
    if (!t.open) continue;
    t.segments.back().end_ns = now;
    t.open = false;
    t.exited = true;
    t.exit_ns = now;
  }
  open_ = std::move(open_now);
  counters_.push_back(c);
}

json trace_builder::finish(const symbol_tables& tables) const {
  const std::int64_t interval = samples_ > 1 ? last_ns_ - prev_ns_ : 0;
  const std::int64_t end_ns = last_ns_ + (interval > 0 ? interval : no_previous_sample_end_ns);
  json events = json::array();

  events.push_back(metadata("process_name", counter_pid, 0, {{"name", "gprof-id"}}));
  events.push_back(metadata("process_sort_index", counter_pid, 0, {{"sort_index", -1}}));
  std::set<std::uint32_t> sites;
  for (const auto& [id, t] : tracks_) sites.insert(t.site);
  for (std::uint32_t site : sites) {
    const code_location& where = tables.sites.at(site);
    events.push_back(metadata("process_name", site_pid(site), 0, {{"name", where.function}}));
    events.push_back(
        metadata("process_labels", site_pid(site), 0,
                 {{"labels", "spawned at " + where.file + ":" + std::to_string(where.line)}}));
    events.push_back(metadata("process_sort_index", site_pid(site), 0, {{"sort_index", site}}));
  }

  for (const auto& [id, t] : tracks_) {
    const std::int64_t pid = site_pid(t.site);
    std::string name = "g" + std::to_string(id);
    if (!t.segments.empty()) {
      const auto& stack = tables.stacks.at(t.segments.front().stack);
      if (!stack.empty()) name += " " + tables.frames.at(stack.back()).function;
    }
    events.push_back(metadata("thread_name", pid, id, {{"name", name}}));
    events.push_back(metadata("thread_sort_index", pid, id, {{"sort_index", id}}));

    for (const segment& seg : t.segments) {
      const bool waiting = seg.state == goroutine_state::waiting;
      const std::int64_t seg_end = t.open && &seg == &t.segments.back() ? end_ns : seg.end_ns;
      json stack = json::array();
      for (std::uint32_t f : tables.stacks.at(seg.stack)) {
        stack.push_back(frame_text(tables.frames.at(f)));
      }
      json args = {{"goid", id}, {"parent_goid", t.parent_id}, {"state", to_string(seg.state)}};
      if (waiting) args["wait_reason"] = to_string(seg.reason);
      args["stack"] = std::move(stack);
      if (seg.labels && !seg.labels->empty()) {
        json labels = json::object();
        for (const auto& [k, v] : *seg.labels) labels[k] = v;
        args["labels"] = std::move(labels);
      }
      std::string slice = waiting && seg.reason != wait_reason::none
                              ? std::string(to_string(seg.reason))
                              : std::string(to_string(seg.state));
      events.push_back({{"name", slice},
                        {"cat", to_string(seg.state)},
                        {"ph", "X"},
                        {"pid", pid},
                        {"tid", id},
                        {"ts", micros(seg.start_ns)},
                        {"dur", micros(std::max<std::int64_t>(0, seg_end - seg.start_ns))},
                        {"args", std::move(args)}});
    }
    if (t.exited) {
      events.push_back({{"name", "exit"},
                        {"cat", "goroutine"},
                        {"ph", "i"},
                        {"s", "t"},
                        {"pid", pid},
                        {"tid", id},
                        {"ts", micros(t.exit_ns)}});
    }

    // The creation arrow binds to the parent's slice enclosing the spawn and to the child's
    // first slice; both ends are clamped into those slices so viewers do not drop the flow.
    auto parent = tracks_.find(t.parent_id);
    if (t.parent_id == 0 || parent == tracks_.end() || parent->second.segments.empty() ||
        t.segments.empty()) {
      continue;
    }
    const auto& psegs = parent->second.segments;
    auto enclosing = std::find_if(psegs.begin(), psegs.end(),
                                  [&](const segment& s) { return t.created_ns < s.end_ns; });
    if (enclosing == psegs.end()) --enclosing;
    const std::int64_t from = std::clamp(t.created_ns, enclosing->start_ns,
                                         std::max(enclosing->start_ns, enclosing->end_ns));
    const json flow_args = {{"goid", id}, {"parent_goid", t.parent_id}};
    events.push_back({{"name", "go"},
                      {"cat", "spawn"},
                      {"ph", "s"},
                      {"id", id},
                      {"pid", site_pid(parent->second.site)},
                      {"tid", t.parent_id},
                      {"ts", micros(from)},
                      {"args", flow_args}});
    events.push_back({{"name", "go"},
                      {"cat", "spawn"},
                      {"ph", "f"},
                      {"bp", "e"},
                      {"id", id},
                      {"pid", pid},
                      {"tid", id},
                      {"ts", micros(t.segments.front().start_ns)},
                      {"args", flow_args}});
  }

  for (const counts& c : counters_) {
    events.push_back(
        {{"name", "goroutines"},
         {"ph", "C"},
         {"pid", counter_pid},
         {"tid", 0},
         {"ts", micros(c.time_ns)},
         {"args", {{"running", c.running}, {"runnable", c.runnable}, {"waiting", c.waiting}}}});
  }
  return {{"traceEvents", std::move(events)}, {"displayTimeUnit", "ns"}};
}

json chrome_trace(const symbol_tables& tables, const std::vector<sample>& samples) {
  trace_builder b;
  for (const sample& s : samples) b.add(s);
  return b.finish(tables);
}

}  // namespace gprofid
