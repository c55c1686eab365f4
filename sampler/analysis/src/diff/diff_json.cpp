#include "gprofid/analysis/diff_json.hpp"

#include "gprofid/labels.hpp"
#include "gprofid/saturating.hpp"

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
  for (const auto* g : d.created) created.push_back(goroutine_json(*g, t));
  json& exited = j["exited"] = json::array();
  for (const auto* g : d.exited) {
    json e = goroutine_json(*g, t);
    e["last_seen_ns"] = d.from_time_ns;
    e["lifetime_ns"] = saturating_sub(d.from_time_ns, g->created_ns);
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
    json e = goroutine_json(*s.g, t);
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
  json j = {{"type", "summary"},
            {"samples", s.samples},
            {"from", point_json(s.first_seq, s.first_time_ns)},
            {"to", point_json(s.last_seq, s.last_time_ns)},
            {"counts",
             {{"seen", s.goroutines_seen},
              {"alive_start", s.alive_start},
              {"alive_end", s.alive_end},
              {"created", s.created},
              {"exited", s.exited}}}};
  json& sites = j["sites"] = json::array();
  for (const auto& g : s.sites) {
    sites.push_back({{"site", site_json(t, g.site)},
                     {"alive_start", g.alive_start},
                     {"alive_end", g.alive_end},
                     {"created", g.created},
                     {"exited", g.exited},
                     {"net_growth", g.net_growth},
                     {"growth_per_s", g.growth_per_s},
                     {"grew_every_window", g.grew_every_window}});
  }
  auto lifecycle = [&](const goroutine_lifecycle& l, bool with_stack) {
    json e = {{"id", l.id},
              {"parent", l.parent_id},
              {"labels", labels_json(l.labels)},
              {"created_ns", l.created_ns},
              {"first_seen", point_json(l.first_seq, l.first_seen_ns)},
              {"last_seen", point_json(l.last_seq, l.last_seen_ns)},
              {"created_inside", l.created_inside},
              {"exited_inside", l.exited_inside},
              {"lifetime_ns", l.lifetime_ns()},
              {"last_state", to_string(l.last_state)},
              {"last_wait_reason", reason_json(l.last_state, l.last_reason)},
              {"state_changes", l.state_changes},
              {"stack_changes", l.stack_changes},
              {"longest_wait_ns", l.longest_wait_ns},
              {"site", site_json(t, l.site)}};
    if (l.stuck_samples >= 2) {
      e["stuck"] = {{"wait_reason", to_string(l.stuck_reason)},
                    {"samples", l.stuck_samples},
                    {"since_ns", l.stuck_since_ns},
                    {"stuck_ns", l.stuck_ns}};
      if (with_stack) e["stuck"]["stack"] = stack_json(t, l.stuck_stack);
    } else {
      e["stuck"] = nullptr;
    }
    if (s.followed) {
      json& tl = e["timeline"] = json::array();
      for (const auto& p : l.timeline) {
        json pj = point_json(p.seq, p.time_ns);
        pj["present"] = p.present;
        if (p.present) {
          pj["state"] = to_string(p.state);
          pj["wait_reason"] = reason_json(p.state, p.reason);
          pj["wait_ns"] = p.wait_ns;
          pj["stack"] = stack_json(t, p.stack);
        }
        tl.push_back(std::move(pj));
      }
    }
    return e;
  };
  json& stuck = j["longest_stuck"] = json::array();
  for (const auto& l : s.longest_stuck) stuck.push_back(lifecycle(l, true));
  json& warnings = j["warnings"] = json::array();
  for (const auto& w : s.warnings) {
    json e = {{"kind", to_string(w.what)},
              {"id", w.what == summary_warning::kind::never_yielded ? json(w.id) : json(nullptr)},
              {"site", site_json(t, w.site)},
              {"samples", w.samples},
              {"duration_ns", w.duration_ns}};
    e["message"] = w.what == summary_warning::kind::never_yielded
                       ? "goroutine " + std::to_string(w.id) +
                             " was running in consecutive samples without being resumed: it "
                             "never yielded and blocks a worker"
                       : "live goroutines of this spawn site grew in every window";
    warnings.push_back(std::move(e));
  }
  j["followed"] = s.followed;
  json& gs = j["goroutines"] = json::array();
  for (const auto& l : s.goroutines) gs.push_back(lifecycle(l, false));
  return j;
}

diff_json_writer::diff_json_writer(std::ostream& out, bool lines,
                                   const std::vector<diff_input>& inputs)
    : out_(out), lines_(lines) {
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
  emit(pair_to_json(d, tables));
  if (lines_) out_ << '\n';
  any_pair_ = true;
}

void diff_json_writer::summary(const diff_summary& s, const symbol_tables& tables) {
  if (!lines_) out_ << "\n],\"summary\":";
  emit(summary_to_json(s, tables));
  out_ << '\n';
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
