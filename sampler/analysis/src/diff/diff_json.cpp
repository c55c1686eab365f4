#include "gprofid/analysis/diff_json.hpp"

#include <algorithm>

#include "gprofid/analysis/wait_rules.hpp"
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

// A reference of the form 1 + frame index (0: none), e.g. wait_object::locked_at.
json frame_or_null(const symbol_tables& t, std::uint32_t one_based) {
  return one_based != 0 && one_based <= t.frames.size() ? location_json(t.frames[one_based - 1])
                                                        : json(nullptr);
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

json ids_json(const std::vector<std::uint64_t>& ids) {
  json a = json::array();
  for (std::uint64_t id : ids) a.push_back(id);
  return a;
}

json object_ids_json(const std::vector<std::uint64_t>& ids) {
  json a = json::array();
  for (std::uint64_t id : ids) a.push_back(object_id_text(id));
  return a;
}

// The sentence that says why these goroutines can never run again.
std::string leak_proof_text(const leak_report& r) {
  std::string text;
  if (r.closed_set > 0) {
    text = std::to_string(r.closed_set) + " blocked on " + std::to_string(r.channels) +
           (r.channels == 1 ? " channel" : " channels") + " whose " + std::to_string(r.handles) +
           (r.handles == 1 ? " handle is" : " handles are all") +
           " held by leaked goroutines themselves: no other goroutine, timer or heap object can "
           "send, receive or close";
  }
  if (r.nil_waits > 0) {
    if (!text.empty()) text += "; ";
    text += std::to_string(r.nil_waits) +
            " blocked on a nil channel or an empty select, which nothing can ever complete";
  }
  return text;
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
                     {"grew_every_window", g.grew_every_window},
                     {"trend_per_s", g.trend_per_s},
                     {"late_trend_per_s", g.late_trend_per_s},
                     {"growing", g.growing}});
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
              {"lifetime_max_ns", l.lifetime_max_ns()},
              {"gone_ns", l.exited_inside ? json(l.gone_ns) : json(nullptr)},
              {"deadlocked", l.deadlocked},
              {"leaked", l.leaked},
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
              {"id", w.what == summary_warning::kind::site_growing ? json(nullptr) : json(w.id)},
              {"site", site_json(t, w.site)},
              {"samples", w.samples},
              {"duration_ns", w.duration_ns}};
    switch (w.what) {
      case summary_warning::kind::never_yielded:
        e["message"] = "goroutine " + std::to_string(w.id) +
                       " was running in consecutive samples without being resumed: it never "
                       "yielded and blocks a worker";
        break;
      case summary_warning::kind::site_growing:
        e["message"] =
            "live goroutines of this spawn site keep growing (regression slope over the whole "
            "recording and over its later half)";
        break;
      case summary_warning::kind::lost_wakeup:
        e["message"] = "goroutine " + std::to_string(w.id) +
                       " stayed parked on an object that was ready for it: a lost wake-up";
        break;
      case summary_warning::kind::leak_disproved:
        e["message"] = "goroutine " + std::to_string(w.id) +
                       " was proven leaked but ran again: a handle the runtime cannot see (a "
                       "reference or raw pointer) reached its channel";
        break;
    }
    warnings.push_back(std::move(e));
  }
  j["thresholds"] = {{"stuck_ns", s.stuck_threshold_ns}, {"interval_ns", s.interval_ns}};
  json& deadlocks = j["deadlocks"] = json::array();
  for (const auto& d : s.deadlocks) {
    json members = json::array();
    const auto& c = d.cycle;
    for (std::size_t i = 0; i < c.goroutines.size(); ++i) {
      const bool known = i < d.members.size();
      const deadlock_member m = known ? d.members[i] : deadlock_member{};
      members.push_back({{"id", c.goroutines[i]},
                         {"waits_on", object_id_text(c.objects[i])},
                         {"held_by", c.goroutines[(i + 1) % c.goroutines.size()]},
                         {"labels", labels_json(m.labels)},
                         {"stack", stack_json(t, known ? m.stack : ~0u)},
                         {"locked_at", frame_or_null(t, m.locked_at)}});
    }
    deadlocks.push_back({{"goroutines", ids_json(c.goroutines)},
                         {"objects", object_ids_json(c.objects)},
                         {"blocked_behind", ids_json(c.blocked_behind)},
                         {"first_seen", point_json(d.first_seq, d.first_time_ns)},
                         {"last_seq", d.last_seq},
                         {"members", std::move(members)}});
  }
  json& leaks = j["leaks"] = json::array();
  for (const auto& r : s.leaks) {
    const char* rule = r.nil_waits == 0    ? "closed-set"
                       : r.closed_set == 0 ? "nil-wait"
                                           : "closed-set+nil-wait";
    leaks.push_back({{"site", site_json(t, r.site)},
                     {"count", r.goroutines.size()},
                     {"goroutines", ids_json(r.goroutines)},
                     {"proof",
                      {{"rule", rule},
                       {"closed_set", r.closed_set},
                       {"nil_waits", r.nil_waits},
                       {"channels", r.channels},
                       {"handles", r.handles},
                       {"text", leak_proof_text(r)}}},
                     {"first_proven_ns", r.first_proven_ns}});
  }
  json& stuck_now = j["stuck"] = json::array();
  for (const auto& r : s.stuck) {
    stuck_now.push_back({{"id", r.id},
                         {"labels", labels_json(r.labels)},
                         {"wait_reason", to_string(r.reason)},
                         {"stuck_ns", r.stuck_ns},
                         {"since_ns", r.since_ns},
                         {"samples", r.samples},
                         {"ongoing", r.ongoing},
                         {"site", site_json(t, r.site)},
                         {"stack", stack_json(t, r.stack)}});
  }
  json& growing = j["growing"] = json::array();
  for (std::uint32_t site : s.growing) {
    auto it = std::find_if(s.sites.begin(), s.sites.end(),
                           [&](const site_growth& g) { return g.site == site; });
    if (it == s.sites.end()) continue;
    growing.push_back({{"site", site_json(t, site)},
                       {"net_growth", it->net_growth},
                       {"trend_per_s", it->trend_per_s},
                       {"late_trend_per_s", it->late_trend_per_s},
                       {"alive_end", it->alive_end}});
  }
  json& hogs = j["never_yielded"] = json::array();
  for (const auto& r : s.never_yielded) {
    hogs.push_back({{"id", r.id},
                    {"labels", labels_json(r.labels)},
                    {"samples", r.samples},
                    {"duration_ns", r.duration_ns},
                    {"site", site_json(t, r.site)},
                    {"stack", stack_json(t, r.stack)}});
  }
  json& lost = j["lost_wakeups"] = json::array();
  for (const auto& r : s.lost_wakeups) {
    lost.push_back({{"id", r.id},
                    {"labels", labels_json(r.labels)},
                    {"object", object_id_text(r.object)},
                    {"samples", r.samples},
                    {"why", r.why},
                    {"site", site_json(t, r.site)},
                    {"stack", stack_json(t, r.stack)}});
  }
  json& background = j["background"] = json::array();
  for (const auto& b : s.background) {
    background.push_back({{"site", site_json(t, b.site)},
                          {"wait_reason", to_string(b.reason)},
                          {"count", b.goroutines.size()},
                          {"goroutines", ids_json(b.goroutines)},
                          {"stack", stack_json(t, b.stack)}});
  }
  const auto& o = s.omitted;
  j["omitted"] = {{"deadlocks", o.deadlocks},
                  {"leaks", o.leaks},
                  {"stuck", o.stuck},
                  {"growing", o.growing},
                  {"never_yielded", o.never_yielded},
                  {"background", o.background},
                  {"lost_wakeups", o.lost_wakeups}};
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
