#include "summary_json.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "gprofid/recording/json_text.hpp"
#include "gprofid/recording/wait_graph.hpp"
#include "gprofid/saturating.hpp"

namespace gprofid::summary_json {
namespace {

// Keys and vocabulary words are fixed ASCII: written as they are.
void key(std::string& out, std::string_view k) {
  out += ',';
  append_json_key(out, k);
}

void first_key(std::string& out, std::string_view k) {
  append_json_key(out, k);
}

void word(std::string& out, std::string_view w) {
  out += '"';
  out += w;
  out += '"';
}

void boolean(std::string& out, bool b) {
  out += b ? "true" : "false";
}

// As nlohmann prints a double (shortest round trip, "1.0" for integers, null if not finite).
void number(std::string& out, double v) {
  out += nlohmann::json(v).dump();
}

template <class Int>
void integer(std::string& out, Int v) {
  append_json_int(out, v);
}

void location(std::string& out, const code_location& loc) {
  out += '{';
  first_key(out, "function");
  append_json_string(out, loc.function);
  key(out, "file");
  append_json_string(out, loc.file);
  key(out, "line");
  integer(out, loc.line);
  out += '}';
}

void frame_or_null(std::string& out, const symbol_tables& t, std::uint32_t one_based) {
  if (one_based != 0 && one_based <= t.frames.size()) {
    location(out, t.frames[one_based - 1]);
  } else {
    out += "null";
  }
}

void stack(std::string& out, const symbol_tables& t, std::uint32_t stack) {
  out += '[';
  if (stack < t.stacks.size()) {
    bool first = true;
    for (std::uint32_t f : t.stacks[stack]) {
      if (!first) out += ',';
      first = false;
      if (f < t.frames.size()) {
        location(out, t.frames[f]);
      } else {
        out += "null";
      }
    }
  }
  out += ']';
}

void labels(std::string& out, const label_ptr& l) {
  out += '{';
  if (l) {
    bool first = true;
    for (const auto& [k, v] : *l) {
      if (!first) out += ',';
      first = false;
      append_json_string(out, k);
      out += ':';
      append_json_string(out, v);
    }
  }
  out += '}';
}

void reason(std::string& out, goroutine_state s, wait_reason r) {
  if (s == goroutine_state::waiting) {
    word(out, to_string(r));
  } else {
    out += "null";
  }
}

void point(std::string& out, std::uint64_t seq, std::int64_t t) {
  out += '{';
  first_key(out, "seq");
  integer(out, seq);
  key(out, "time_ns");
  integer(out, t);
  out += '}';
}

void ids(std::string& out, const std::vector<std::uint64_t>& v) {
  out += '[';
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    integer(out, v[i]);
  }
  out += ']';
}

void object_ids(std::string& out, const std::vector<std::uint64_t>& v) {
  out += '[';
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, object_id_text(v[i]));
  }
  out += ']';
}

// The opening of a finding about one goroutine: `{"id":N,"labels":{...}`.
void open_goroutine(std::string& out, std::uint64_t id, const label_ptr& l) {
  out += '{';
  first_key(out, "id");
  integer(out, id);
  key(out, "labels");
  labels(out, l);
}

// The close of a finding: its spawn site and the stack it saw.
void close_site_stack(std::string& out, const symbol_tables& t, site_cache& sites,
                      std::uint32_t site, std::uint32_t st) {
  key(out, "site");
  out += sites.site(t, site);
  key(out, "stack");
  stack(out, t, st);
  out += '}';
}

// Writes `items` as an array, each by `each(out, item)`.
template <class Items, class Each>
void array(std::string& out, std::string_view k, const Items& items, Each each) {
  key(out, k);
  out += '[';
  bool first = true;
  for (const auto& item : items) {
    if (!first) out += ',';
    first = false;
    each(item);
  }
  out += ']';
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

std::string warning_message(const summary_warning& w) {
  switch (w.what) {
    case summary_warning::kind::never_yielded:
      return "goroutine " + std::to_string(w.id) +
             " was running in consecutive samples without being resumed: it never yielded and "
             "blocks a worker";
    case summary_warning::kind::site_growing:
      return "live goroutines of this spawn site keep growing (regression slope over the whole "
             "recording and over its later half)";
    case summary_warning::kind::lost_wakeup:
      return "goroutine " + std::to_string(w.id) +
             " stayed parked on an object that was ready for it: a lost wake-up";
    case summary_warning::kind::leak_disproved:
      return "goroutine " + std::to_string(w.id) +
             " was proven leaked but ran again: a handle the runtime cannot see (a reference or "
             "raw pointer) reached its channel";
  }
  return {};
}

}  // namespace

const std::string& site_cache::site(const symbol_tables& t, std::uint32_t site) {
  static const std::string null = "null";
  if (site >= t.sites.size()) return null;
  if (site >= text_.size()) text_.resize(std::size_t{site} + 1);
  std::string& s = text_[site];
  if (s.empty()) location(s, t.sites[site]);
  return s;
}

void append_lifecycle(std::string& out, const goroutine_lifecycle& l, bool with_stack,
                      bool followed, const symbol_tables& t, site_cache& sites) {
  out += '{';
  first_key(out, "id");
  integer(out, l.id);
  key(out, "parent");
  integer(out, l.parent_id);
  key(out, "labels");
  labels(out, l.labels);
  key(out, "created_ns");
  integer(out, l.created_ns);
  key(out, "first_seen");
  point(out, l.first_seq, l.first_seen_ns);
  key(out, "last_seen");
  point(out, l.last_seq, l.last_seen_ns);
  key(out, "created_inside");
  boolean(out, l.created_inside);
  key(out, "exited_inside");
  boolean(out, l.exited_inside);
  key(out, "lifetime_ns");
  integer(out, l.lifetime_ns());
  key(out, "lifetime_max_ns");
  integer(out, l.lifetime_max_ns());
  key(out, "gone_ns");
  if (l.exited_inside) {
    integer(out, l.gone_ns);
  } else {
    out += "null";
  }
  key(out, "deadlocked");
  boolean(out, l.deadlocked);
  key(out, "leaked");
  boolean(out, l.leaked);
  key(out, "last_state");
  word(out, to_string(l.last_state));
  key(out, "last_wait_reason");
  reason(out, l.last_state, l.last_reason);
  key(out, "state_changes");
  integer(out, l.state_changes);
  key(out, "stack_changes");
  integer(out, l.stack_changes);
  key(out, "longest_wait_ns");
  integer(out, l.longest_wait_ns);
  key(out, "site");
  out += sites.site(t, l.site);
  key(out, "stuck");
  if (l.stuck_samples >= 2) {
    out += '{';
    first_key(out, "wait_reason");
    word(out, to_string(l.stuck_reason));
    key(out, "samples");
    integer(out, l.stuck_samples);
    key(out, "since_ns");
    integer(out, l.stuck_since_ns);
    key(out, "stuck_ns");
    integer(out, l.stuck_ns);
    if (with_stack) {
      key(out, "stack");
      stack(out, t, l.stuck_stack);
    }
    out += '}';
  } else {
    out += "null";
  }
  if (followed) {
    array(out, "timeline", l.timeline, [&](const timeline_point& p) {
      out += '{';
      first_key(out, "seq");
      integer(out, p.seq);
      key(out, "time_ns");
      integer(out, p.time_ns);
      key(out, "present");
      boolean(out, p.present);
      if (p.present) {
        key(out, "state");
        word(out, to_string(p.state));
        key(out, "wait_reason");
        reason(out, p.state, p.reason);
        key(out, "wait_ns");
        integer(out, p.wait_ns);
        key(out, "stack");
        stack(out, t, p.stack);
      }
      out += '}';
    });
  }
  out += '}';
}

void append_rest(std::string& out, const diff_summary& s, const symbol_tables& t,
                 site_cache& sites) {
  key(out, "samples");
  integer(out, s.samples);
  key(out, "from");
  point(out, s.first_seq, s.first_time_ns);
  key(out, "to");
  point(out, s.last_seq, s.last_time_ns);
  key(out, "counts");
  out += '{';
  first_key(out, "seen");
  integer(out, s.goroutines_seen);
  key(out, "alive_start");
  integer(out, s.alive_start);
  key(out, "alive_end");
  integer(out, s.alive_end);
  key(out, "created");
  integer(out, s.created);
  key(out, "exited");
  integer(out, s.exited);
  out += '}';
  array(out, "sites", s.sites, [&](const site_growth& g) {
    out += '{';
    first_key(out, "site");
    out += sites.site(t, g.site);
    key(out, "alive_start");
    integer(out, g.alive_start);
    key(out, "alive_end");
    integer(out, g.alive_end);
    key(out, "created");
    integer(out, g.created);
    key(out, "exited");
    integer(out, g.exited);
    key(out, "net_growth");
    integer(out, g.net_growth);
    key(out, "growth_per_s");
    number(out, g.growth_per_s);
    key(out, "grew_every_window");
    boolean(out, g.grew_every_window);
    key(out, "trend_per_s");
    number(out, g.trend_per_s);
    key(out, "late_trend_per_s");
    number(out, g.late_trend_per_s);
    key(out, "growing");
    boolean(out, g.growing);
    out += '}';
  });
  array(out, "longest_stuck", s.longest_stuck, [&](const goroutine_lifecycle& l) {
    append_lifecycle(out, l, true, s.followed, t, sites);
  });
  array(out, "warnings", s.warnings, [&](const summary_warning& w) {
    out += '{';
    first_key(out, "kind");
    word(out, to_string(w.what));
    key(out, "id");
    if (w.what == summary_warning::kind::site_growing) {
      out += "null";
    } else {
      integer(out, w.id);
    }
    key(out, "site");
    out += sites.site(t, w.site);
    key(out, "samples");
    integer(out, w.samples);
    key(out, "duration_ns");
    integer(out, w.duration_ns);
    key(out, "message");
    append_json_string(out, warning_message(w));
    out += '}';
  });
  key(out, "thresholds");
  out += '{';
  first_key(out, "stuck_ns");
  integer(out, s.stuck_threshold_ns);
  key(out, "interval_ns");
  integer(out, s.interval_ns);
  out += '}';
  array(out, "deadlocks", s.deadlocks, [&](const deadlock_report& d) {
    const auto& c = d.cycle;
    out += '{';
    first_key(out, "goroutines");
    ids(out, c.goroutines);
    key(out, "objects");
    object_ids(out, c.objects);
    key(out, "blocked_behind");
    ids(out, c.blocked_behind);
    key(out, "first_seen");
    point(out, d.first_seq, d.first_time_ns);
    key(out, "last_seq");
    integer(out, d.last_seq);
    key(out, "members");
    out += '[';
    for (std::size_t i = 0; i < c.goroutines.size(); ++i) {
      const bool known = i < d.members.size();
      const deadlock_member m = known ? d.members[i] : deadlock_member{};
      if (i) out += ',';
      out += '{';
      first_key(out, "id");
      integer(out, c.goroutines[i]);
      key(out, "waits_on");
      append_json_string(out, object_id_text(i < c.objects.size() ? c.objects[i] : 0));
      key(out, "held_by");
      integer(out, c.goroutines[(i + 1) % c.goroutines.size()]);
      key(out, "labels");
      labels(out, m.labels);
      key(out, "stack");
      stack(out, t, known ? m.stack : ~0u);
      key(out, "locked_at");
      frame_or_null(out, t, m.locked_at);
      out += '}';
    }
    out += "]}";
  });
  array(out, "leaks", s.leaks, [&](const leak_report& r) {
    const char* rule = r.nil_waits == 0    ? "closed-set"
                       : r.closed_set == 0 ? "nil-wait"
                                           : "closed-set+nil-wait";
    out += '{';
    first_key(out, "site");
    out += sites.site(t, r.site);
    key(out, "count");
    integer(out, r.goroutines.size());
    key(out, "goroutines");
    ids(out, r.goroutines);
    key(out, "proof");
    out += '{';
    first_key(out, "rule");
    word(out, rule);
    key(out, "closed_set");
    integer(out, r.closed_set);
    key(out, "nil_waits");
    integer(out, r.nil_waits);
    key(out, "channels");
    integer(out, r.channels);
    key(out, "handles");
    integer(out, r.handles);
    key(out, "text");
    append_json_string(out, leak_proof_text(r));
    out += '}';
    key(out, "first_proven_ns");
    integer(out, r.first_proven_ns);
    out += '}';
  });
  array(out, "stuck", s.stuck, [&](const stuck_report& r) {
    open_goroutine(out, r.id, r.labels);
    key(out, "wait_reason");
    word(out, to_string(r.reason));
    key(out, "stuck_ns");
    integer(out, r.stuck_ns);
    key(out, "since_ns");
    integer(out, r.since_ns);
    key(out, "samples");
    integer(out, r.samples);
    key(out, "ongoing");
    boolean(out, r.ongoing);
    close_site_stack(out, t, sites, r.site, r.stack);
  });
  key(out, "growing");
  out += '[';
  bool first = true;
  for (std::uint32_t site : s.growing) {
    auto it = std::find_if(s.sites.begin(), s.sites.end(),
                           [&](const site_growth& g) { return g.site == site; });
    if (it == s.sites.end()) continue;
    if (!first) out += ',';
    first = false;
    out += '{';
    first_key(out, "site");
    out += sites.site(t, site);
    key(out, "net_growth");
    integer(out, it->net_growth);
    key(out, "trend_per_s");
    number(out, it->trend_per_s);
    key(out, "late_trend_per_s");
    number(out, it->late_trend_per_s);
    key(out, "alive_end");
    integer(out, it->alive_end);
    out += '}';
  }
  out += ']';
  array(out, "never_yielded", s.never_yielded, [&](const never_yielded_report& r) {
    open_goroutine(out, r.id, r.labels);
    key(out, "samples");
    integer(out, r.samples);
    key(out, "duration_ns");
    integer(out, r.duration_ns);
    close_site_stack(out, t, sites, r.site, r.stack);
  });
  array(out, "lost_wakeups", s.lost_wakeups, [&](const lost_wakeup_report& r) {
    open_goroutine(out, r.id, r.labels);
    key(out, "object");
    append_json_string(out, object_id_text(r.object));
    key(out, "samples");
    integer(out, r.samples);
    key(out, "why");
    append_json_string(out, r.why);
    close_site_stack(out, t, sites, r.site, r.stack);
  });
  array(out, "background", s.background, [&](const background_group& b) {
    out += '{';
    first_key(out, "site");
    out += sites.site(t, b.site);
    key(out, "wait_reason");
    word(out, to_string(b.reason));
    key(out, "count");
    integer(out, b.goroutines.size());
    key(out, "goroutines");
    ids(out, b.goroutines);
    key(out, "stack");
    stack(out, t, b.stack);
    out += '}';
  });
  const auto& o = s.omitted;
  key(out, "omitted");
  out += '{';
  first_key(out, "deadlocks");
  integer(out, o.deadlocks);
  key(out, "leaks");
  integer(out, o.leaks);
  key(out, "stuck");
  integer(out, o.stuck);
  key(out, "growing");
  integer(out, o.growing);
  key(out, "never_yielded");
  integer(out, o.never_yielded);
  key(out, "background");
  integer(out, o.background);
  key(out, "lost_wakeups");
  integer(out, o.lost_wakeups);
  out += '}';
  key(out, "followed");
  boolean(out, s.followed);
}

}  // namespace gprofid::summary_json
