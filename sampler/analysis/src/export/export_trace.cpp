#include "gprofid/analysis/export_trace.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "gprofid/saturating.hpp"

namespace gprofid {
namespace {

using nlohmann::json;

// Counts live on their own process; spawn site i is process i + 1.
constexpr std::int64_t counter_pid = 0;
constexpr std::int64_t no_previous_sample_end_ns = 1'000'000;
constexpr std::size_t flush_bytes = 1 << 16;
// Every slice, marker and flow shares one category: DevTools binds a flow event only to a slice
// of the same category (and pid, tid and ts).
constexpr std::string_view category = "goroutine";

std::int64_t site_pid(std::uint32_t site) {
  return static_cast<std::int64_t>(site) + 1;
}

double micros(std::int64_t ns) {
  // Exact for |ns| < 2^53, and the division rounds correctly: the same double a JSON parser
  // reads from micros_text(ns).
  return static_cast<double>(ns) / 1000.0;
}

std::string json_quoted(std::string_view s) {
  return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string dumped(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
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

std::string metadata(std::string_view name, std::int64_t pid, std::uint64_t tid, const json& args) {
  return R"({"name":)" + json_quoted(name) + R"(,"ph":"M","pid":)" + std::to_string(pid) +
         R"(,"tid":)" + std::to_string(tid) + R"(,"args":)" + dumped(args) + "}";
}

}  // namespace

std::string micros_text(std::int64_t ns) {
  ns = std::max<std::int64_t>(ns, 0);
  std::string text = std::to_string(ns / 1000);
  if (std::int64_t frac = ns % 1000; frac != 0) {
    char digits[4] = {static_cast<char>('0' + frac / 100), static_cast<char>('0' + frac / 10 % 10),
                      static_cast<char>('0' + frac % 10), '\0'};
    std::string_view f(digits);
    text += '.';
    text += f.substr(0, f.find_last_not_of('0') + 1);
  }
  return text;
}

std::int64_t fitted_duration(std::int64_t start_ns, std::int64_t end_ns, std::int64_t origin_ns) {
  const double ts = micros(start_ns), next = micros(end_ns), origin = micros(origin_ns);
  const double ts_rel = ts - origin, next_rel = next - origin;
  // One nanosecond is many ulps at any realistic timestamp, so this ends within a step or two
  // (within a few thousand near INT64_MAX ns, where one ulp of the microseconds is 2 us).
  for (std::int64_t d = saturating_sub(end_ns, start_ns); d > 0; --d) {
    const double dur = micros(d);
    if (ts + dur <= next && ts_rel + dur <= next_rel) return d;
  }
  return 0;
}

trace_writer::trace_writer(trace_sink sink) : sink_(std::move(sink)) {
  buffer_ = "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n";
  event(metadata("process_name", counter_pid, 0, {{"name", "gprof-id"}}));
  event(metadata("process_sort_index", counter_pid, 0, {{"sort_index", -1}}));
  event(metadata("thread_name", counter_pid, 0, {{"name", "goroutines"}}));
}

void trace_writer::event(std::string_view text) {
  if (!first_event_) buffer_ += ",\n";
  first_event_ = false;
  buffer_ += text;
  if (buffer_.size() >= flush_bytes) flush();
}

void trace_writer::flush() {
  if (buffer_.empty()) return;
  sink_(buffer_);
  buffer_.clear();
}

void trace_writer::observe(track& t, const goroutine_sample& g, std::int64_t now) {
  segment* last = t.open ? &t.segments.back() : nullptr;
  if (g.state == goroutine_state::dead) {
    if (last) last->end_ns = now;
    t.open = false;
    return;
  }
  const bool waiting = g.state == goroutine_state::waiting;
  // A wait that began after the previous sample is a new wait, even in the same place. (now and
  // prev_ns_ are in [0, now]: add() keeps the clock there, so their difference cannot overflow;
  // wait_ns is whatever the file says.)
  const bool same_wait = !waiting || g.wait_ns >= now - prev_ns_;
  const std::int64_t wait_began = saturating_sub(now, g.wait_ns);
  if (last && last->state == g.state && last->reason == g.reason && last->stack == g.stack &&
      same_labels(last->labels, g.labels) && same_wait) {
    last->end_ns = now;
    return;
  }
  std::int64_t start = now;
  if (last) {
    if (waiting) start = std::clamp(wait_began, last->end_ns, now);
    last->end_ns = start;
  } else {
    const std::int64_t base = std::clamp(
        std::max(samples_ > 1 ? prev_ns_ : std::int64_t{0}, g.created_ns), std::int64_t{0}, now);
    start = waiting ? std::clamp(wait_began, base, now) : base;
    // It ran (or waited to run) from its creation until it began the wait it was first seen in.
    if (start > base) {
      t.segments.push_back(
          {base, start, goroutine_state::running, wait_reason::none, g.stack, g.labels, true});
    }
  }
  t.segments.push_back({start, now, g.state, g.reason, g.stack, g.labels});
  t.open = true;
}

void trace_writer::start_flow(track& child) {
  // Spawned from outside any goroutine, or by one that exited unseen (or before this child was
  // seen, which its creation before the parent's exit rules out): no track to start from.
  auto parent = tracks_.find(child.parent_id);
  if (child.parent_id == 0 || parent == tracks_.end()) return;
  const std::int64_t created = child.created_ns;
  // Created before the recording began or after the sample that first saw it (a hostile file):
  // no slice of the parent can hold that instant, and splitting one there would end it in the
  // future.
  if (created < 0 || created > last_ns_) {
    ++flows_skipped_;
    return;
  }
  // The parent's unwritten slice holding the creation instant: a child is first seen at the
  // first sample after its creation, before which the parent's slices since the previous
  // sample are not written yet.
  std::vector<segment>& segs = parent->second.segments;
  auto holder = std::find_if(segs.begin(), segs.end(), [&](const segment& s) {
    return s.start_ns <= created &&
           (created < s.end_ns || (parent->second.open && &s == &segs.back()));
  });
  if (holder == segs.end()) {
    ++flows_skipped_;
    return;
  }
  // DevTools binds the arrow's start to a slice beginning exactly at the creation instant.
  if (holder->start_ns < created) {
    segment tail = *holder;
    tail.start_ns = created;
    holder->end_ns = created;
    segs.insert(std::next(holder), std::move(tail));
  }
  child.flow.push_back({site_pid(parent->second.site), child.parent_id, created});
}

void trace_writer::write_slice(std::uint64_t id, track& t, const segment& seg) {
  if (seg.end_ns <= seg.start_ns) return;  // zero-length: the next slice starts at the same time
  if (t.origin_ns < 0) t.origin_ns = seg.start_ns;
  const std::int64_t dur = fitted_duration(seg.start_ns, seg.end_ns, t.origin_ns);
  if (dur <= 0) return;
  const bool waiting = seg.state == goroutine_state::waiting;
  json args = json::object();
  args["state"] =
      seg.unsampled ? std::string("running or runnable") : std::string(to_string(seg.state));
  if (waiting) args["wait_reason"] = to_string(seg.reason);
  json stack = json::array();
  for (std::uint32_t f : tables_->stacks.at(seg.stack))
    stack.push_back(frame_text(tables_->frames.at(f)));
  args["stack"] = std::move(stack);
  if (seg.labels && !seg.labels->empty()) {
    json labels = json::object();
    for (const auto& [k, v] : *seg.labels) labels[k] = v;
    args["labels"] = std::move(labels);
  }
  const std::string_view name = seg.unsampled ? std::string_view("running|runnable")
                                : waiting && seg.reason != wait_reason::none ? to_string(seg.reason)
                                                                             : to_string(seg.state);
  const std::string pid = std::to_string(site_pid(t.site)), tid = std::to_string(id);
  const std::string ts = micros_text(seg.start_ns);
  event(R"({"name":)" + json_quoted(name) + R"(,"cat":")" + std::string(category) +
        R"(","ph":"X","pid":)" + pid + R"(,"tid":)" + tid + R"(,"ts":)" + ts + R"(,"dur":)" +
        micros_text(dur) + R"(,"args":)" + dumped(args) + "}");

  if (t.flow.empty() || seg.start_ns <= t.flow.front().created_ns) return;
  // The arrow from the parent's slice that begins at the creation to this one; "bp":"e" binds
  // the end to this (enclosing) slice in Perfetto and chrome://tracing.
  const spawn_flow& f = t.flow.front();
  const std::string flow_args =
      R"(,"args":{"goid":)" + tid + R"(,"parent_goid":)" + std::to_string(f.parent_id) + "}}";
  event(R"({"name":"go","cat":")" + std::string(category) + R"(","ph":"s","id":)" + tid +
        R"(,"pid":)" + std::to_string(f.parent_pid) + R"(,"tid":)" + std::to_string(f.parent_id) +
        R"(,"ts":)" + micros_text(f.created_ns) + flow_args);
  event(R"({"name":"go","cat":")" + std::string(category) + R"(","ph":"f","bp":"e","id":)" + tid +
        R"(,"pid":)" + pid + R"(,"tid":)" + tid + R"(,"ts":)" + ts + flow_args);
  t.flow.clear();
  ++flows_written_;
}

void trace_writer::write_segments(std::uint64_t id, track& t, bool all) {
  if (all && !t.flow.empty()) {
    // The track ends: if no slice starts after the creation, split the first one at the sample
    // that first saw the goroutine so that the arrow has somewhere to end.
    const std::int64_t created = t.flow.front().created_ns;
    const bool later = std::any_of(t.segments.begin(), t.segments.end(), [&](const segment& s) {
      return s.start_ns > created && s.end_ns > s.start_ns;
    });
    auto first = std::find_if(t.segments.begin(), t.segments.end(), [&](const segment& s) {
      return s.start_ns < t.first_seen_ns && t.first_seen_ns < s.end_ns;
    });
    if (!later && first != t.segments.end() && t.first_seen_ns > created) {
      segment tail = *first;
      tail.start_ns = t.first_seen_ns;
      first->end_ns = t.first_seen_ns;
      t.segments.insert(std::next(first), std::move(tail));
    }
  }
  const std::size_t n = all || !t.open ? t.segments.size() : t.segments.size() - 1;
  for (std::size_t i = 0; i < n; ++i) write_slice(id, t, t.segments[i]);
  t.segments.erase(t.segments.begin(), t.segments.begin() + static_cast<std::ptrdiff_t>(n));
  if (all && !t.flow.empty()) {
    t.flow.clear();
    ++flows_skipped_;
  }
}

void trace_writer::write_exit(std::uint64_t id, const track& t, std::int64_t at_ns) {
  // An uppercase "I" instant: DevTools draws those, not the lowercase "i".
  event(R"({"name":"exit","cat":")" + std::string(category) + R"(","ph":"I","s":"t","pid":)" +
        std::to_string(site_pid(t.site)) + R"(,"tid":)" + std::to_string(id) + R"(,"ts":)" +
        micros_text(at_ns) + "}");
}

void trace_writer::write_thread_name(const symbol_tables& tables, std::uint64_t id, const track& t,
                                     const goroutine_sample& g) {
  std::string name = "g" + std::to_string(id);
  const auto& stack = tables.stacks.at(g.stack);
  if (!stack.empty()) name += " " + tables.frames.at(stack.back()).function;
  const std::int64_t pid = site_pid(t.site);
  event(metadata("thread_name", pid, id, {{"name", name}}));
  event(metadata("thread_sort_index", pid, id, {{"sort_index", id}}));
}

void trace_writer::write_counts(std::int64_t end_ns) {
  // The counts as slices on the gprof-id process: DevTools draws no "C" counter track.
  if (counts_origin_ns_ < 0) counts_origin_ns_ = last_ns_;
  const std::int64_t dur = fitted_duration(last_ns_, end_ns, counts_origin_ns_);
  if (dur <= 0) return;
  const counts& c = last_counts_;
  const json args = {{"running", c.running}, {"runnable", c.runnable}, {"waiting", c.waiting}};
  event(R"({"name":)" +
        json_quoted(std::to_string(c.running + c.runnable + c.waiting) + " goroutines") +
        R"(,"cat":"goroutines","ph":"X","pid":0,"tid":0,"ts":)" + micros_text(last_ns_) +
        R"(,"dur":)" + micros_text(dur) + R"(,"args":)" + dumped(args) + "}");
}

std::int64_t trace_writer::begin_sample(const symbol_tables& tables, std::int64_t time_ns) {
  tables_ = &tables;
  // The timeline never runs backwards nor before the recording's start: a sample time below the
  // previous one (or below 0) counts as the previous one (as 0). Every time the writer keeps is
  // then in [0, INT64_MAX] and never less than an earlier one, which the clamps below rely on.
  const std::int64_t now = std::max({time_ns, std::int64_t{0}, samples_ > 0 ? last_ns_ : 0});
  if (samples_ > 0) write_counts(now);
  prev_ns_ = samples_ == 0 ? now : last_ns_;
  last_ns_ = now;
  ++samples_;
  return now;
}

std::map<std::uint64_t, trace_writer::track>::iterator trace_writer::write_track(
    std::map<std::uint64_t, track>::iterator it, std::int64_t now) {
  track& t = it->second;
  if (t.open) {
    write_segments(it->first, t, false);
    return std::next(it);
  }
  const bool drawn = !t.segments.empty() || t.origin_ns >= 0;
  write_segments(it->first, t, true);
  if (drawn) write_exit(it->first, t, now);
  return tracks_.erase(it);
}

void trace_writer::end_sample(std::int64_t now, const counts& c) {
  event(R"({"name":"goroutines","ph":"C","pid":0,"tid":0,"ts":)" + micros_text(now) +
        R"(,"args":)" +
        dumped({{"running", c.running}, {"runnable", c.runnable}, {"waiting", c.waiting}}) + "}");
  last_counts_ = c;
  tables_ = nullptr;
}

trace_writer::track* trace_writer::track_of(const symbol_tables& tables, const goroutine_sample& g,
                                            std::int64_t now, std::vector<std::uint64_t>& fresh) {
  auto it = tracks_.lower_bound(g.id);
  const bool inserted = it == tracks_.end() || it->first != g.id;
  if (inserted) {
    // Ids are never reused: one met before without a track now exited, and stays dead.
    if (met_.contains(g.id)) return nullptr;
    met_.insert(g.id);
    it = tracks_.emplace_hint(it, g.id, track{});
  }
  track& t = it->second;
  if (inserted) {
    t.parent_id = g.parent_id;
    t.site = g.site;
    t.created_ns = g.created_ns;
    t.first_seen_ns = now;
    if (g.site >= site_seen_.size()) site_seen_.resize(g.site + 1, false);
    if (!site_seen_[g.site]) {
      site_seen_[g.site] = true;
      sites_.push_back(g.site);
    }
    write_thread_name(tables, g.id, t, g);
    fresh.push_back(g.id);
  }
  return &t;
}

void trace_writer::add(const symbol_tables& tables, const sample& s) {
  const std::int64_t now = begin_sample(tables, s.time_ns);

  counts c;
  std::vector<std::uint64_t> fresh;  // first seen in this sample
  std::vector<std::uint64_t> seen;
  seen.reserve(s.goroutines.size());
  for (const goroutine_sample& g : s.goroutines) {
    track* found = track_of(tables, g, now, fresh);
    if (!found) continue;
    track& t = *found;
    seen.push_back(g.id);
    observe(t, g, now);
    if (!t.open) continue;
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
  // Goroutines open before this sample and missing from it exited at its time.
  std::sort(seen.begin(), seen.end());
  for (auto& [id, t] : tracks_) {
    if (t.open && !std::binary_search(seen.begin(), seen.end(), id)) {
      t.segments.back().end_ns = now;
      t.open = false;
    }
  }
  for (std::uint64_t id : fresh) start_flow(tracks_.at(id));

  for (auto it = tracks_.begin(); it != tracks_.end();) it = write_track(it, now);
  end_sample(now, c);
}

void trace_writer::finish(const symbol_tables& tables) {
  tables_ = &tables;
  const std::int64_t interval = samples_ > 1 ? last_ns_ - prev_ns_ : 0;  // 0 <= prev <= last
  const std::int64_t end_ns =
      saturating_add(last_ns_, interval > 0 ? interval : no_previous_sample_end_ns);
  if (samples_ > 0) write_counts(end_ns);
  for (auto& [id, t] : tracks_) {
    if (t.open) t.segments.back().end_ns = end_ns;
    write_segments(id, t, true);
  }
  tracks_.clear();

  // Process names must tell sites apart: a function spawning from two places names both by line.
  std::map<std::string, int> uses;
  for (std::uint32_t site : sites_) ++uses[tables.sites.at(site).function];
  for (std::uint32_t site : sites_) {
    const code_location& where = tables.sites.at(site);
    const std::string at = where.file + ":" + std::to_string(where.line);
    std::string name = where.function;
    if (uses[name] > 1) name += " (" + at + ")";
    event(metadata("process_name", site_pid(site), 0, {{"name", name}}));
    event(metadata("process_labels", site_pid(site), 0, {{"labels", "spawned at " + at}}));
    event(metadata("process_sort_index", site_pid(site), 0, {{"sort_index", site}}));
  }
  buffer_ += "\n]}\n";
  flush();
  tables_ = nullptr;
}

std::string chrome_trace(const symbol_tables& tables, const std::vector<sample>& samples) {
  std::string out;
  trace_writer w([&](std::string_view piece) { out += piece; });
  for (const sample& s : samples) w.add(tables, s);
  w.finish(tables);
  return out;
}

}  // namespace gprofid
