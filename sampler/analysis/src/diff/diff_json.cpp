#include "gprofid/analysis/diff_json.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "gprofid/analysis/wait_rules.hpp"
#include "gprofid/labels.hpp"
#include "gprofid/saturating.hpp"
#include "summary_json.hpp"

namespace gprofid {
namespace {

using json = nlohmann::ordered_json;

json location_json(const code_location& loc) {
  return {{"function", loc.function}, {"file", loc.file}, {"line", loc.line}};
}

json site_json(const symbol_tables& t, std::uint32_t site) {
  return site < t.sites.size() ? location_json(t.sites[site]) : json(nullptr);
}

json stack_json(const symbol_tables& t, std::uint32_t stack) {
  json frames = json::array();
  if (stack >= t.stacks.size()) return frames;
  for (std::uint32_t f : t.stacks[stack]) {
    frames.push_back(f < t.frames.size() ? location_json(t.frames[f]) : json(nullptr));
  }
  return frames;
}

json labels_json(const label_ptr& labels) {
  // A label set is sorted with unique keys: the object is built from it in one go. Inserting
  // key by key would search ordered_json's vector each time (63 s for 100k labels).
  if (!labels) return json::object();
  return json(json::object_t(labels->begin(), labels->end()));
}

json reason_json(goroutine_state s, wait_reason r) {
  return s == goroutine_state::waiting ? json(to_string(r)) : json(nullptr);
}

json goroutine_json(const goroutine_sample& g, const symbol_tables& t) {
  return {{"id", g.id},
          {"parent", g.parent_id},
          {"state", to_string(g.state)},
          {"wait_reason", reason_json(g.state, g.reason)},
          {"wait_ns", g.wait_ns},
          {"created_ns", g.created_ns},
          {"labels", labels_json(g.labels)},
          {"resumes", g.resumes},
          {"site", site_json(t, g.site)},
          {"stack", stack_json(t, g.stack)}};
}

json timer_json(const wait_object& t) {
  return {{"id", object_id_text(t.id)}, {"when_ns", t.when_ns}, {"period_ns", t.period_ns}};
}

// The timer or descriptor `g` is parked on in `s`'s graph (directly, or a channel or select
// with a timer case: the one that fires first), or null for any other wait.
json waits_on_json(const sample* s, const goroutine_sample& g) {
  const wait_object* o = s && g.blocked_on != 0 ? find_object(*s, g.blocked_on) : nullptr;
  if (!o) return nullptr;
  json j = {{"kind", to_string(o->kind)}, {"id", object_id_text(o->id)}};
  if (o->kind == wait_object_kind::fd) {
    j["fd"] = o->fd;
    j["direction"] = o->write ? "write" : "read";
    return j;
  }
  const wait_object* t = pending_timer(*s, *o);
  if (!t) return nullptr;
  if (t == o) {
    j["when_ns"] = o->when_ns;
    j["period_ns"] = o->period_ns;
  } else {
    j["timer"] = timer_json(*t);
  }
  return j;
}

// goroutine_json, plus `waits_on` when it waits on a timer or a descriptor.
json goroutine_json(const goroutine_sample& g, const symbol_tables& t, const sample* s) {
  json j = goroutine_json(g, t);
  if (json w = waits_on_json(s, g); !w.is_null()) j["waits_on"] = std::move(w);
  return j;
}

json state_json(const goroutine_sample& g) {
  return {{"state", to_string(g.state)},
          {"wait_reason", reason_json(g.state, g.reason)},
          {"wait_ns", g.wait_ns}};
}

json point_json(std::uint64_t seq, std::int64_t t) {
  return {{"seq", seq}, {"time_ns", t}};
}

}  // namespace

json pair_to_json(const pair_diff& d, const symbol_tables& t) {
  const auto& c = d.counts;
  json j = {{"type", "pair"},
            {"from", point_json(d.from_seq, d.from_time_ns)},
            {"to", point_json(d.to_seq, d.to_time_ns)},
            {"counts",
             {{"before", c.before},
              {"after", c.after},
              {"created", c.created},
              {"exited", c.exited},
              {"state_changed", c.state_changed},
              {"stack_changed", c.stack_changed},
              {"stuck", c.stuck},
              {"never_yielded", c.never_yielded}}}};
  json& created = j["created"] = json::array();
  for (const auto* g : d.created) created.push_back(goroutine_json(*g, t, d.after));
  json& exited = j["exited"] = json::array();
  for (const auto* g : d.exited) {
    json e = goroutine_json(*g, t, d.before);
    e["last_seen_ns"] = d.from_time_ns;
    e["gone_ns"] = d.to_time_ns;
    // It ended somewhere between the two samples: a lower and an upper bound.
    e["lifetime_ns"] = saturating_sub(d.from_time_ns, g->created_ns);
    e["lifetime_max_ns"] = saturating_sub(d.to_time_ns, g->created_ns);
    exited.push_back(std::move(e));
  }
  json& states = j["state_changes"] = json::array();
  for (const auto& ch : d.state_changes) {
    states.push_back({{"id", ch.after->id},
                      {"before", state_json(*ch.before)},
                      {"after", state_json(*ch.after)},
                      {"labels", labels_json(ch.after->labels)},
                      {"site", site_json(t, ch.after->site)},
                      {"stack", stack_json(t, ch.after->stack)}});
    if (json w = waits_on_json(d.after, *ch.after); !w.is_null()) {
      states.back()["after"]["waits_on"] = std::move(w);
    }
  }
  json& stacks = j["stack_changes"] = json::array();
  for (const auto& ch : d.stack_changes) {
    stacks.push_back({{"id", ch.after->id},
                      {"state", to_string(ch.after->state)},
                      {"wait_reason", reason_json(ch.after->state, ch.after->reason)},
                      {"labels", labels_json(ch.after->labels)},
                      {"before", stack_json(t, ch.before->stack)},
                      {"after", stack_json(t, ch.after->stack)}});
  }
  json& stuck = j["stuck"] = json::array();
  for (const auto& s : d.stuck) {
    json e = goroutine_json(*s.g, t, d.after);
    e["samples"] = s.samples;
    e["since_ns"] = s.since_ns;
    e["stuck_ns"] = s.duration_ns;
    stuck.push_back(std::move(e));
  }
  json& hogs = j["never_yielded"] = json::array();
  for (const auto& ch : d.never_yielded) hogs.push_back(goroutine_json(*ch.after, t));
  return j;
}

json summary_to_json(const diff_summary& s, const symbol_tables& t) {
  // The streamed text, parsed: one renderer for both (tests and fuzzing compare documents).
  std::string text = "{\"type\":\"summary\",\"goroutines\":[";
  summary_json::site_cache sites;
  bool first = true;
  for (const auto& l : s.goroutines) {
    if (!first) text += ',';
    first = false;
    summary_json::append_lifecycle(text, l, false, s.followed, t, sites);
  }
  text += ']';
  summary_json::append_rest(text, s, t, sites);
  text += '}';
  return json::parse(text);
}

diff_json_writer::diff_json_writer(std::ostream& out, bool lines,
                                   const std::vector<diff_input>& inputs)
    : out_(out), lines_(lines), sites_(std::make_unique<summary_json::site_cache>()) {
  json in = json::array();
  for (const auto& i : inputs) {
    in.push_back(
        {{"path", i.path}, {"pid", i.pid}, {"start_wall", i.start_wall}, {"workload", i.workload}});
  }
  json head = {{"format", diff_format::name}, {"version", diff_format::version}, {"inputs", in}};
  if (lines_) {
    json h = {{"type", "header"}};
    h.update(head);
    emit(h);
    out_ << '\n';
  } else {
    std::string text = head.dump(-1, ' ', false, json::error_handler_t::replace);
    text.pop_back();  // reopen the object to stream "pairs" into it
    out_ << text << ",\"pairs\":[";
  }
}

void diff_json_writer::emit(const json& j) {
  out_ << j.dump(-1, ' ', false, json::error_handler_t::replace);
}

void diff_json_writer::pair(const pair_diff& d, const symbol_tables& tables) {
  if (!lines_ && any_pair_) out_ << ',';
  if (!lines_) out_ << '\n';
  write_pair_json(out_, d, tables);
  if (lines_) out_ << '\n';
  any_pair_ = true;
}

diff_json_writer::~diff_json_writer() = default;

void diff_json_writer::begin_summary() {
  if (summary_open_) return;
  if (!lines_) out_ << "\n],\"summary\":";
  out_ << "{\"type\":\"summary\",\"goroutines\":[";
  summary_open_ = true;
}

void diff_json_writer::summary_goroutine(const goroutine_lifecycle& l, bool followed,
                                         const symbol_tables& tables) {
  if (any_goroutine_) buffer_ += ',';
  any_goroutine_ = true;
  summary_json::append_lifecycle(buffer_, l, false, followed, tables, *sites_);
  if (buffer_.size() >= 64 * 1024) flush_goroutines();
}

void diff_json_writer::flush_goroutines() {
  if (summary_open_) {
    out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
  } else {
    // Pairs are still being written: the lifecycles wait on disk, not in memory.
    if (!spill_) spill_.reset(std::tmpfile());
    if (!spill_ || std::fwrite(buffer_.data(), 1, buffer_.size(), spill_.get()) != buffer_.size()) {
      throw std::runtime_error("cannot write the summary's temporary file");
    }
  }
  buffer_.clear();
}

void diff_json_writer::summary(const diff_summary& s, const symbol_tables& tables) {
  if (!summary_open_) {
    flush_goroutines();
    begin_summary();
    if (spill_) {
      std::rewind(spill_.get());
      char chunk[64 * 1024];
      while (std::size_t n = std::fread(chunk, 1, sizeof chunk, spill_.get())) {
        out_.write(chunk, static_cast<std::streamsize>(n));
      }
      if (std::ferror(spill_.get())) {
        throw std::runtime_error("cannot read the summary's temporary file");
      }
      spill_.reset();
    }
  }
  for (const auto& l : s.goroutines) summary_goroutine(l, s.followed, tables);
  buffer_ += ']';
  summary_json::append_rest(buffer_, s, tables, *sites_);
  buffer_ += "}\n";
  flush_goroutines();
  summary_done_ = true;
}

void diff_json_writer::finish() {
  if (finished_) return;
  finished_ = true;
  if (lines_) return;
  if (!summary_done_) out_ << "\n],\"summary\":null";
  out_ << "}\n";
  out_.flush();
}

}  // namespace gprofid
