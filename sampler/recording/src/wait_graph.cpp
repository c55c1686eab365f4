#include "gprofid/recording/wait_graph.hpp"

#include <algorithm>
#include <cstdio>
#include <unordered_map>
#include <unordered_set>

namespace gprofid {
namespace {

bool is_chan_wait(wait_reason r) noexcept {
  return r == wait_reason::chan_receive || r == wait_reason::chan_send || r == wait_reason::select;
}

// A channel operation that could complete now.
bool ready_to_receive(const wait_object& c) noexcept {
  return c.closed || c.count > 0 || (c.capacity == 0 && c.senders > 0);
}
bool ready_to_send(const wait_object& c) noexcept {
  return c.closed || (c.capacity > 0 && c.count < c.capacity) ||
         (c.capacity == 0 && c.receivers > 0);
}

// The channels a goroutine waits on, or false if they are not all known.
bool channels_of(const goroutine_sample& g, const sample& s, std::vector<const wait_object*>& out) {
  out.clear();
  const wait_object* o = find_object(s, g.blocked_on);
  if (!o) return false;
  if (o->kind == wait_object_kind::channel) {
    out.push_back(o);
    return true;
  }
  if (o->kind != wait_object_kind::select) return false;
  for (std::uint64_t id : o->cases) {
    const wait_object* c = find_object(s, id);
    if (!c || c->kind != wait_object_kind::channel) return false;
    out.push_back(c);
  }
  return true;
}

// Leaked by proof: the largest set L of goroutines parked on known channels such that every
// handle of every such channel is held by a member of L (a greatest fixpoint: start with every
// candidate, drop those that someone outside can still reach, repeat).
void find_leaks(const sample& s, wait_diagnosis& out) {
  struct candidate {
    const goroutine_sample* g;
    std::vector<const wait_object*> chans;
  };
  std::vector<candidate> cands;
  std::vector<const wait_object*> chans;
  for (const auto& g : s.goroutines) {
    // Main (goroutine 1) parked for good is how a program serves until it is killed (as Go's
    // `select {}` in main): the program's lifetime, not a leak.
    if (g.state != goroutine_state::waiting || g.id == 1) continue;
    if (is_nil_wait(g.reason)) {
      out.leaked.push_back({g.id, leak_rule::nil_wait, {}, 0});
      continue;
    }
    if (!is_chan_wait(g.reason) || !channels_of(g, s, chans)) continue;
    const wait_object* sel =
        g.reason == wait_reason::select ? find_object(s, g.blocked_on) : nullptr;
    if (chans.empty()) {  // a select whose cases are all nil channels
      if (sel && sel->nil_cases > 0) out.leaked.push_back({g.id, leak_rule::nil_wait, {}, 0});
      continue;
    }
    const bool usable = std::all_of(chans.begin(), chans.end(), [&](const wait_object* c) {
      // A channel a pending timer sends on (after, ticker: its `timer`) wakes when it fires. A
      // handle held outside the recorded frames (heap, another thread, a running goroutine)
      // could be used any time; one in the frame of a goroutine parked on a timer or an fd is
      // in held_by, and that goroutine is never in the set below. An operation that could
      // complete now is a lost wake-up, not a leak.
      const bool sends =
          sel ? std::binary_search(sel->send_cases.begin(), sel->send_cases.end(), c->id)
              : g.reason == wait_reason::chan_send;
      const bool ready = sends ? ready_to_send(*c) : ready_to_receive(*c);
      return !ready && c->timer == 0 && c->held_by.size() == c->handles;
    });
    if (usable) cands.push_back({&g, chans});
  }
  std::unordered_set<std::uint64_t> in;
  for (const auto& c : cands) in.insert(c.g->id);
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& c : cands) {
      if (!in.count(c.g->id)) continue;
      const bool closed_world = std::all_of(c.chans.begin(), c.chans.end(), [&](auto* ch) {
        return std::all_of(ch->held_by.begin(), ch->held_by.end(),
                           [&](std::uint64_t h) { return in.count(h) != 0; });
      });
      if (!closed_world) {
        in.erase(c.g->id);
        changed = true;
      }
    }
  }
  for (const auto& c : cands) {
    if (!in.count(c.g->id)) continue;
    leaked_goroutine l{c.g->id, leak_rule::closed_set, {}, 0};
    for (const wait_object* ch : c.chans) {
      l.channels.push_back(ch->id);
      l.handles += ch->handles;
    }
    out.leaked.push_back(std::move(l));
  }
  std::sort(out.leaked.begin(), out.leaked.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
}

// Each goroutine waiting on a locked mutex points at its owner: a functional graph, whose
// cycles are the deadlocks.
void find_deadlocks(const sample& s, wait_diagnosis& out) {
  // goroutine -> (owner of the mutex it waits on, that mutex)
  std::unordered_map<std::uint64_t, std::pair<std::uint64_t, std::uint64_t>> next;
  for (const auto& g : s.goroutines) {
    if (g.state != goroutine_state::waiting || g.reason != wait_reason::mutex_lock) continue;
    const wait_object* m = find_object(s, g.blocked_on);
    if (!m || m->kind != wait_object_kind::mutex || !m->locked || m->owner == 0) continue;
    next.emplace(g.id, std::make_pair(m->owner, m->id));
  }
  std::unordered_map<std::uint64_t, int> color;  // 0 unvisited, 1 on the path, 2 done
  std::unordered_map<std::uint64_t, std::size_t> cycle_index;
  std::vector<std::uint64_t> ids;
  for (const auto& [id, _] : next) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  for (std::uint64_t start : ids) {
    if (color[start] != 0) continue;
    std::vector<std::uint64_t> path;
    std::uint64_t at = start;
    while (next.count(at) && color[at] == 0) {
      color[at] = 1;
      path.push_back(at);
      at = next[at].first;
    }
    if (next.count(at) && color[at] == 1) {  // closed a cycle at `at`
      auto from = std::find(path.begin(), path.end(), at);
      std::vector<std::uint64_t> members(from, path.end());
      std::rotate(members.begin(), std::min_element(members.begin(), members.end()), members.end());
      deadlock_cycle c;
      for (std::uint64_t m : members) {
        c.goroutines.push_back(m);
        c.objects.push_back(next[m].second);
        cycle_index[m] = out.deadlocks.size();
      }
      out.deadlocks.push_back(std::move(c));
    }
    for (std::uint64_t p : path) color[p] = 2;
  }
  // Who waits, through a chain of mutexes, on a cycle.
  for (std::uint64_t id : ids) {
    if (cycle_index.count(id)) continue;
    std::uint64_t at = id;
    for (std::size_t steps = 0; next.count(at) && steps <= ids.size(); ++steps) {
      at = next[at].first;
      if (auto it = cycle_index.find(at); it != cycle_index.end()) {
        out.deadlocks[it->second].blocked_behind.push_back(id);
        break;
      }
    }
  }
  std::sort(out.deadlocks.begin(), out.deadlocks.end(),
            [](const auto& a, const auto& b) { return a.goroutines[0] < b.goroutines[0]; });
}

void find_lost_wakeups(const sample& s, wait_diagnosis& out) {
  for (const auto& g : s.goroutines) {
    if (g.state != goroutine_state::waiting) continue;
    const wait_object* o = find_object(s, g.blocked_on);
    if (!o) continue;
    std::string why;
    if (g.reason == wait_reason::chan_receive && o->kind == wait_object_kind::channel &&
        ready_to_receive(*o)) {
      why = o->closed ? "chan receive on a closed channel"
                      : "chan receive on a channel with a value or a parked sender";
    } else if (g.reason == wait_reason::chan_send && o->kind == wait_object_kind::channel &&
               ready_to_send(*o)) {
      why = o->closed ? "chan send on a closed channel"
                      : "chan send on a channel with room or a parked receiver";
    } else if (g.reason == wait_reason::mutex_lock && o->kind == wait_object_kind::mutex &&
               !o->locked) {
      why = "sync.Mutex.Lock on an unlocked mutex";
    } else if (g.reason == wait_reason::wait_group && o->kind == wait_object_kind::wait_group &&
               o->counter == 0) {
      why = "sync.WaitGroup.Wait on a zero counter";
    } else if (g.reason == wait_reason::event && o->kind == wait_object_kind::event && o->set) {
      why = "event wait on a set event";
    }
    if (!why.empty()) out.lost_wakeups.push_back({g.id, o->id, std::move(why)});
  }
}

}  // namespace

bool is_nil_wait(wait_reason r) noexcept {
  return r == wait_reason::chan_receive_nil || r == wait_reason::chan_send_nil ||
         r == wait_reason::select_no_cases;
}

const leaked_goroutine* wait_diagnosis::leak_of(std::uint64_t id) const noexcept {
  auto it = std::lower_bound(leaked.begin(), leaked.end(), id,
                             [](const leaked_goroutine& l, std::uint64_t v) { return l.id < v; });
  return it != leaked.end() && it->id == id ? &*it : nullptr;
}

const deadlock_cycle* wait_diagnosis::cycle_of(std::uint64_t id) const noexcept {
  for (const auto& c : deadlocks) {
    if (std::find(c.goroutines.begin(), c.goroutines.end(), id) != c.goroutines.end()) return &c;
  }
  return nullptr;
}

wait_diagnosis diagnose(const sample& s) {
  wait_diagnosis d;
  find_deadlocks(s, d);
  find_leaks(s, d);
  find_lost_wakeups(s, d);
  return d;
}

const wait_object* pending_timer(const sample& s, const wait_object& o) noexcept {
  auto of_channel = [&](const wait_object* c) -> const wait_object* {
    const wait_object* t = c && c->timer != 0 ? find_object(s, c->timer) : nullptr;
    return t && t->kind == wait_object_kind::timer ? t : nullptr;
  };
  switch (o.kind) {
    case wait_object_kind::timer:
      return &o;
    case wait_object_kind::channel:
      return of_channel(&o);
    case wait_object_kind::select: {
      const wait_object* first = nullptr;
      for (std::uint64_t id : o.cases) {
        const wait_object* t = of_channel(find_object(s, id));
        if (t && (!first || t->when_ns < first->when_ns)) first = t;
      }
      return first;
    }
    default:
      return nullptr;
  }
}

std::string_view to_string(leak_rule r) noexcept {
  return r == leak_rule::nil_wait ? "nil-wait" : "closed-set";
}

std::string object_id_text(std::uint64_t id) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(id));
  return buf;
}

}  // namespace gprofid
