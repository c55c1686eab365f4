// A pair of the JSON diff written as it is made (write_pair_json), without a document, which for
// a pair of 100k goroutines with their stacks is hundreds of MB of nodes. pair_to_json parses
// this text: the one renderer of a pair (docs/diff-format.md).
#include <string>
#include <utility>

#include "gprofid/analysis/diff_json.hpp"
#include "gprofid/recording/wait_graph.hpp"
#include "gprofid/saturating.hpp"
#include "json_stream.hpp"

namespace gprofid {
namespace {

using json_out::stream;

void location(stream& j, const code_location& loc) {
  j.begin_object();
  j.key("function");
  j.string(loc.function);
  j.key("file");
  j.string(loc.file);
  j.key("line");
  j.number(loc.line);
  j.end_object();
}

void site(stream& j, const symbol_tables& t, std::uint32_t s) {
  if (s < t.sites.size()) {
    location(j, t.sites[s]);
  } else {
    j.null();
  }
}

void stack(stream& j, const symbol_tables& t, std::uint32_t s) {
  j.begin_array();
  if (s < t.stacks.size()) {
    for (std::uint32_t f : t.stacks[s]) {
      if (f < t.frames.size()) {
        location(j, t.frames[f]);
      } else {
        j.null();
      }
    }
  }
  j.end_array();
}

void labels(stream& j, const label_ptr& l) {
  j.begin_object();
  if (l) {
    for (const auto& [k, v] : *l) {
      j.key_text(k);
      j.string(v);
    }
  }
  j.end_object();
}

void reason(stream& j, goroutine_state s, wait_reason r) {
  if (s == goroutine_state::waiting) {
    j.string(to_string(r));
  } else {
    j.null();
  }
}

// The fields of diff_json.cpp's goroutine_json, in its order, inside an object left open.
void goroutine_fields(stream& j, const goroutine_sample& g, const symbol_tables& t) {
  j.key("id");
  j.number(g.id);
  j.key("parent");
  j.number(g.parent_id);
  j.key("state");
  j.string(to_string(g.state));
  j.key("wait_reason");
  reason(j, g.state, g.reason);
  j.key("wait_ns");
  j.number(g.wait_ns);
  j.key("created_ns");
  j.number(g.created_ns);
  j.key("labels");
  labels(j, g.labels);
  j.key("resumes");
  j.number(g.resumes);
  j.key("site");
  site(j, t, g.site);
  j.key("stack");
  stack(j, t, g.stack);
}

void timer(stream& j, const wait_object& t) {
  j.begin_object();
  j.key("id");
  j.string(object_id_text(t.id));
  j.key("when_ns");
  j.number(t.when_ns);
  j.key("period_ns");
  j.number(t.period_ns);
  j.end_object();
}

// `"waits_on":{...}` when `g` waits on a timer or a descriptor in `s` (diff_json.cpp's
// waits_on_json), else nothing.
void waits_on(stream& j, const sample* s, const goroutine_sample& g) {
  const wait_object* o = s && g.blocked_on != 0 ? find_object(*s, g.blocked_on) : nullptr;
  if (!o) return;
  const wait_object* t = o->kind == wait_object_kind::fd ? o : pending_timer(*s, *o);
  if (!t) return;
  j.key("waits_on");
  j.begin_object();
  j.key("kind");
  j.string(to_string(o->kind));
  j.key("id");
  j.string(object_id_text(o->id));
  if (o->kind == wait_object_kind::fd) {
    j.key("fd");
    j.number(o->fd);
    j.key("direction");
    j.string(o->write ? "write" : "read");
  } else if (t == o) {
    j.key("when_ns");
    j.number(o->when_ns);
    j.key("period_ns");
    j.number(o->period_ns);
  } else {
    j.key("timer");
    timer(j, *t);
  }
  j.end_object();
}

void state(stream& j, const goroutine_sample& g, const sample* waits_in) {
  j.begin_object();
  j.key("state");
  j.string(to_string(g.state));
  j.key("wait_reason");
  reason(j, g.state, g.reason);
  j.key("wait_ns");
  j.number(g.wait_ns);
  if (waits_in) waits_on(j, waits_in, g);
  j.end_object();
}

void point(stream& j, std::uint64_t seq, std::int64_t t) {
  j.begin_object();
  j.key("seq");
  j.number(seq);
  j.key("time_ns");
  j.number(t);
  j.end_object();
}

}  // namespace

void write_pair_json(std::ostream& out, const pair_diff& d, const symbol_tables& t) {
  stream j(out);
  const auto& c = d.counts;
  j.begin_object();
  j.key("type");
  j.string("pair");
  j.key("from");
  point(j, d.from_seq, d.from_time_ns);
  j.key("to");
  point(j, d.to_seq, d.to_time_ns);
  j.key("counts");
  j.begin_object();
  const std::pair<const char*, std::uint64_t> counts[] = {{"before", c.before},
                                                          {"after", c.after},
                                                          {"created", c.created},
                                                          {"exited", c.exited},
                                                          {"state_changed", c.state_changed},
                                                          {"stack_changed", c.stack_changed},
                                                          {"stuck", c.stuck},
                                                          {"never_yielded", c.never_yielded}};
  for (const auto& [name, n] : counts) {
    j.key(name);
    j.number(n);
  }
  j.end_object();
  j.key("created");
  j.begin_array();
  for (const auto* g : d.created) {
    j.begin_object();
    goroutine_fields(j, *g, t);
    waits_on(j, d.after, *g);
    j.end_object();
  }
  j.end_array();
  j.key("exited");
  j.begin_array();
  for (const auto* g : d.exited) {
    j.begin_object();
    goroutine_fields(j, *g, t);
    waits_on(j, d.before, *g);
    j.key("last_seen_ns");
    j.number(d.from_time_ns);
    j.key("gone_ns");
    j.number(d.to_time_ns);
    j.key("lifetime_ns");
    j.number(saturating_sub(d.from_time_ns, g->created_ns));
    j.key("lifetime_max_ns");
    j.number(saturating_sub(d.to_time_ns, g->created_ns));
    j.end_object();
  }
  j.end_array();
  j.key("state_changes");
  j.begin_array();
  for (const auto& ch : d.state_changes) {
    j.begin_object();
    j.key("id");
    j.number(ch.after->id);
    j.key("before");
    state(j, *ch.before, nullptr);
    j.key("after");
    state(j, *ch.after, d.after);
    j.key("labels");
    labels(j, ch.after->labels);
    j.key("site");
    site(j, t, ch.after->site);
    j.key("stack");
    stack(j, t, ch.after->stack);
    j.end_object();
  }
  j.end_array();
  j.key("stack_changes");
  j.begin_array();
  for (const auto& ch : d.stack_changes) {
    j.begin_object();
    j.key("id");
    j.number(ch.after->id);
    j.key("state");
    j.string(to_string(ch.after->state));
    j.key("wait_reason");
    reason(j, ch.after->state, ch.after->reason);
    j.key("labels");
    labels(j, ch.after->labels);
    j.key("before");
    stack(j, t, ch.before->stack);
    j.key("after");
    stack(j, t, ch.after->stack);
    j.end_object();
  }
  j.end_array();
  j.key("stuck");
  j.begin_array();
  for (const auto& s : d.stuck) {
    j.begin_object();
    goroutine_fields(j, *s.g, t);
    waits_on(j, d.after, *s.g);
    j.key("samples");
    j.number(s.samples);
    j.key("since_ns");
    j.number(s.since_ns);
    j.key("stuck_ns");
    j.number(s.duration_ns);
    j.end_object();
  }
  j.end_array();
  j.key("never_yielded");
  j.begin_array();
  for (const auto& ch : d.never_yielded) {
    j.begin_object();
    goroutine_fields(j, *ch.after, t);
    j.end_object();
  }
  j.end_array();
  j.end_object();
}

}  // namespace gprofid
