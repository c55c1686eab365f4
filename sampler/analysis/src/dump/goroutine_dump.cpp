#include "gprofid/analysis/goroutine_dump.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "gprofid/analysis/text_escape.hpp"
#include "gprofid/saturating.hpp"
#include "gprofid/traceback_text.hpp"

namespace gprofid {

std::string format_location(const code_location& loc) {
  return escape_text(loc.function) + " " + escape_text(loc.file) + ":" + std::to_string(loc.line);
}

std::string format_frame(const symbol_tables& tables, std::uint32_t frame) {
  return frame < tables.frames.size() ? format_location(tables.frames[frame]) : "?";
}

std::string format_top_frame(const symbol_tables& tables, std::uint32_t stack) {
  if (stack >= tables.stacks.size() || tables.stacks[stack].empty()) return "(no frames)";
  return format_frame(tables, tables.stacks[stack].front());
}

std::string format_status(const goroutine_sample& g) {
  std::string out = "[";
  if (g.state == goroutine_state::waiting) {
    out += to_string(g.reason);
    if (g.wait_ns > 0) out += ", " + format_duration(g.wait_ns);
  } else {
    out += to_string(g.state);
  }
  return out + "]";
}

std::string format_labels(const label_ptr& labels) {
  return labels ? format_labels(*labels) : std::string();
}

std::string format_labels(const label_set& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    out += (first ? "" : ", ") + escape_text(k) + "=" + escape_text(v);
    first = false;
  }
  return out + "}";
}

std::string format_stack_text(const symbol_tables& tables, std::uint32_t stack,
                              std::string_view indent) {
  std::string out;
  if (stack >= tables.stacks.size()) return out;
  for (std::uint32_t f : tables.stacks[stack]) {
    out += indent;
    if (f >= tables.frames.size()) {
      out += "?\n";
      continue;
    }
    const code_location& loc = tables.frames[f];
    out += escape_text(loc.function);
    out += '\n';
    out += indent;
    out += '\t';
    out += escape_text(loc.file);
    out += ':';
    out += std::to_string(loc.line);
    out += '\n';
  }
  return out;
}

std::string format_created_by(const goroutine_sample& g, const symbol_tables& tables,
                              std::string_view indent) {
  if (g.site >= tables.sites.size()) return {};
  const code_location& site = tables.sites[g.site];
  if (site.function.empty() && site.line == 0) return {};
  return format_created_by(escape_text(site.function), escape_text(site.file), site.line,
                           g.parent_id, indent);
}

group_text format_group(const std::vector<const goroutine_sample*>& members,
                        const symbol_tables& tables, std::string_view indent) {
  group_text out;
  if (members.empty()) return out;
  // Shared: the first member's labels that every other member has with the same value.
  label_set shared;
  if (const label_ptr& first = members.front()->labels) {
    for (const auto& label : *first) {
      // A named element rather than structured bindings: clang 14 (the fuzz build) cannot
      // capture bindings in a lambda.
      const bool everywhere = std::all_of(members.begin(), members.end(), [&](const auto* g) {
        const std::string* value = g->labels ? find_label(*g->labels, label.first) : nullptr;
        return value && *value == label.second;
      });
      if (everywhere) shared.emplace_back(label.first, label.second);
    }
  }
  if (!shared.empty()) out.labels = format_labels(shared);
  for (const auto* g : members) {
    if (!g->labels || g->labels->size() == shared.size()) {
      out.own.emplace_back();
      continue;
    }
    label_set own;
    for (const auto& kv : *g->labels) {
      if (std::find(shared.begin(), shared.end(), kv) == shared.end()) own.push_back(kv);
    }
    out.own.push_back(format_labels(own));
  }

  const goroutine_sample& first = *members.front();
  if (first.site >= tables.sites.size()) return out;
  const code_location& site = tables.sites[first.site];
  if (site.function.empty() && site.line == 0) return out;
  std::vector<std::uint64_t> parents;
  for (const auto* g : members) parents.push_back(g->parent_id);
  std::sort(parents.begin(), parents.end());
  parents.erase(std::unique(parents.begin(), parents.end()), parents.end());
  std::string function = escape_text(site.function);
  std::uint64_t parent = parents.size() == 1 ? parents.front() : 0;
  if (parents.size() > 1) {
    constexpr std::size_t shown = 10;
    function += " in goroutines ";
    for (std::size_t i = 0; i < parents.size() && i < shown; ++i) {
      function += (i ? ", " : "") + std::to_string(parents[i]);
    }
    if (parents.size() > shown) {
      function += ", ... (" + std::to_string(parents.size() - shown) + " more)";
    }
  }
  out.created_by = format_created_by(function, escape_text(site.file), site.line, parent, indent);
  return out;
}

std::string format_verdict(const wait_diagnosis& d, const sample& s, const symbol_tables& tables,
                           std::uint64_t id) {
  if (const deadlock_cycle* c = d.cycle_of(id)) {
    auto at = std::find(c->goroutines.begin(), c->goroutines.end(), id) - c->goroutines.begin();
    const std::uint64_t next = c->goroutines[(at + 1) % c->goroutines.size()];
    std::string out = " (deadlocked: waits on a mutex held by goroutine " + std::to_string(next);
    const wait_object* o = find_object(s, c->objects[at]);
    if (o && o->locked_at != 0) out += ", locked at " + format_frame(tables, o->locked_at - 1);
    return out + ")";
  }
  if (d.leak_of(id)) return " (leaked)";
  for (const auto& c : d.deadlocks) {
    if (std::binary_search(c.blocked_behind.begin(), c.blocked_behind.end(), id)) {
      return " (blocked behind a deadlock)";
    }
  }
  return "";
}

namespace {

std::string timer_text(const sample& s, const wait_object& t) {
  const std::int64_t in = saturating_sub(t.when_ns, s.time_ns);
  std::string out = in >= 0 ? "fires in " + format_duration(in)
                            : "due " + format_duration(saturating_sub(0, in)) + " ago";
  if (t.period_ns > 0) out += ", every " + format_duration(t.period_ns);
  return out;
}

}  // namespace

std::string format_wait_detail(const sample& s, const goroutine_sample& g) {
  const wait_object* o = g.blocked_on != 0 ? find_object(s, g.blocked_on) : nullptr;
  if (!o) return {};
  if (o->kind == wait_object_kind::fd) {
    return "fd " + std::to_string(o->fd) + (o->write ? " (write)" : " (read)");
  }
  const wait_object* t = pending_timer(s, *o);
  if (!t) return {};
  const char* what = o->kind == wait_object_kind::timer     ? "timer, "
                     : o->kind == wait_object_kind::channel ? "timer channel, "
                                                            : "select with a timer case, ";
  return what + timer_text(s, *t);
}

std::string format_goroutine_text(const goroutine_sample& g, const symbol_tables& tables,
                                  std::string_view indent, std::string_view mark,
                                  std::string_view waits_on) {
  std::string out(indent);
  out += "goroutine " + std::to_string(g.id) + " " + format_status(g);
  out += mark;
  out += ":\n";
  if (std::string labels = format_labels(g.labels); !labels.empty()) {
    out += indent;
    out += "labels: " + labels + "\n";
  }
  if (!waits_on.empty()) {
    out += indent;
    out += "waits on: ";
    out += waits_on;
    out += '\n';
  }
  out += format_stack_text(tables, g.stack, indent);
  out += format_created_by(g, tables, indent);
  return out;
}

std::string format_goroutine_dump(const sample& s, const symbol_tables& tables) {
  const wait_diagnosis d = diagnose(s);
  std::string out;
  for (const auto& g : s.goroutines) {
    if (!out.empty()) out += '\n';
    out += format_goroutine_text(g, tables, {}, format_verdict(d, s, tables, g.id),
                                 format_wait_detail(s, g));
  }
  return out;
}

std::string format_grouped_dump(const sample& s, const symbol_tables& tables) {
  // Keyed by content, so stacks interned twice still merge.
  using key = std::tuple<goroutine_state, wait_reason, std::uint32_t, std::uint32_t>;
  std::map<key, std::vector<const goroutine_sample*>> groups;
  for (const auto& g : s.goroutines) groups[{g.state, g.reason, g.stack, g.site}].push_back(&g);
  std::vector<const std::vector<const goroutine_sample*>*> order;
  for (const auto& [k, members] : groups) order.push_back(&members);
  std::stable_sort(order.begin(), order.end(),
                   [](const auto* a, const auto* b) { return a->size() > b->size(); });

  // In a group, a short mark after each id: "4(leaked)", "7(deadlocked)".
  const wait_diagnosis d = diagnose(s);
  std::map<std::uint64_t, std::string> marks;
  for (const auto& g : s.goroutines) {
    marks[g.id] = d.cycle_of(g.id) ? "(deadlocked)" : d.leak_of(g.id) ? "(leaked)" : "";
  }
  std::string out = "goroutine profile: total " + std::to_string(s.goroutines.size()) + "\n";
  for (const auto* members : order) {
    const goroutine_sample& first = *members->front();
    std::int64_t lo = first.wait_ns, hi = first.wait_ns;
    for (const auto* g : *members) {
      lo = std::min(lo, g->wait_ns);
      hi = std::max(hi, g->wait_ns);
    }
    out += '\n' + std::to_string(members->size()) +
           (members->size() == 1 ? " goroutine [" : " goroutines [");
    if (first.state == goroutine_state::waiting) {
      out += to_string(first.reason);
      if (hi > 0) {
        out += ", " + format_duration(lo);
        if (format_duration(hi) != format_duration(lo)) out += "~" + format_duration(hi);
      }
    } else {
      out += to_string(first.state);
    }
    out += "]:";
    const group_text text = format_group(*members, tables);
    for (std::size_t i = 0; i < members->size(); ++i) {
      const std::uint64_t id = (*members)[i]->id;
      out += ' ' + std::to_string(id) + text.own[i] + marks.at(id);
    }
    out += '\n';
    if (!text.labels.empty()) out += "labels: " + text.labels + "\n";
    out += format_stack_text(tables, first.stack);
    out += text.created_by;
  }
  return out;
}

namespace {

// Deeper than this, lines stop moving right and say their depth instead: a 50k-deep spawn chain
// would otherwise print gigabytes of indentation (the output grows with depth squared).
constexpr std::size_t max_tree_indent = 64;

struct tree_item {
  const goroutine_sample* g;
  std::string prefix;  // the guides drawn left of its branch
  std::size_t depth;   // 0 for a root
  bool last;           // the last child of its parent
};

}  // namespace

std::string format_goroutine_tree(const sample& s, const symbol_tables& tables) {
  std::multimap<std::uint64_t, const goroutine_sample*> children;
  std::vector<const goroutine_sample*> roots;
  for (const auto& g : s.goroutines) {
    // A child always has a larger id than its parent, which also rules out cycles.
    if (g.parent_id != 0 && g.parent_id < g.id && find_goroutine(s, g.parent_id)) {
      children.emplace(g.parent_id, &g);
    } else {
      roots.push_back(&g);
    }
  }
  const wait_diagnosis d = diagnose(s);
  std::string out;
  // Depth-first with an explicit stack (no recursion: a spawn chain is as deep as the program
  // makes it); items are pushed in reverse so that they come off in order.
  std::vector<tree_item> todo;
  for (auto r = roots.rbegin(); r != roots.rend(); ++r) todo.push_back({*r, "", 0, true});
  std::vector<const goroutine_sample*> kids;
  while (!todo.empty()) {
    tree_item item = std::move(todo.back());
    todo.pop_back();
    const goroutine_sample& g = *item.g;
    const bool root = item.depth == 0;
    out += item.prefix;
    if (!root) out += item.last ? "└─ " : "├─ ";
    if (item.depth > max_tree_indent) out += "[depth " + std::to_string(item.depth) + "] ";
    out += "goroutine " + std::to_string(g.id) + " " + format_status(g) +
           format_verdict(d, s, tables, g.id) + " " + format_top_frame(tables, g.stack);
    if (root && g.parent_id != 0) out += "  (parent " + std::to_string(g.parent_id) + " gone)";
    out += '\n';
    const std::string next = root || item.depth >= max_tree_indent
                                 ? item.prefix
                                 : item.prefix + (item.last ? "   " : "│  ");
    kids.clear();
    auto [b, e] = children.equal_range(g.id);
    for (auto it = b; it != e; ++it) kids.push_back(it->second);
    for (std::size_t k = kids.size(); k-- > 0;) {
      todo.push_back({kids[k], next, item.depth + 1, k + 1 == kids.size()});
    }
  }
  return out;
}

}  // namespace gprofid
