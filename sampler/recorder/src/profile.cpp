#include "gprofid/recorder/profile.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <fstream>
#include <stdexcept>
#include <utility>

#include "gprofid/clock.hpp"
#include "gprofid/recording/recording_writer.hpp"

namespace gprofid {
namespace {

// A record's place in id order, with its table stack (in the 4 bytes a pair would pad).
struct id_key {
  std::uint64_t id = 0;
  std::uint32_t index = 0;  // of the record in the snapshot
  std::uint32_t stack = 0;  // the symbolizer's
  friend bool operator<(const id_key& a, const id_key& b) noexcept {
    return a.id < b.id || (a.id == b.id && a.index < b.index);
  }
};

// Sorts (id, index) keys by id. The ids of one program's goroutines are close together, so an
// LSD radix sort on their offset from the smallest takes one or two passes of 11 bits: to_sample
// went from 265 to 185 instructions a record at 10k records (callgrind, sample_cost) when it
// replaced std::sort.
void sort_by_id(std::vector<id_key>& keys) {
  constexpr int digit_bits = 11;
  constexpr std::size_t buckets = std::size_t{1} << digit_bits;
  if (keys.size() < 256) {  // the histograms would cost more than the sort
    std::sort(keys.begin(), keys.end());
    return;
  }
  const auto [lo, hi] = std::minmax_element(
      keys.begin(), keys.end(), [](const id_key& a, const id_key& b) { return a.id < b.id; });
  const std::uint64_t base = lo->id;
  const std::uint64_t range = hi->id - base;
  if (std::bit_width(range) > 3 * digit_bits) {  // ids far apart: more passes than a sort is worth
    std::sort(keys.begin(), keys.end());
    return;
  }
  std::vector<id_key> out(keys.size());
  std::array<std::uint32_t, buckets> count;
  for (int shift = 0; shift < 64 && (range >> shift) != 0; shift += digit_bits) {
    auto digit = [&](const id_key& k) { return ((k.id - base) >> shift) & (buckets - 1); };
    count.fill(0);
    for (const auto& k : keys) ++count[digit(k)];
    std::uint32_t sum = 0;
    for (auto& c : count) sum += std::exchange(c, sum);
    for (const auto& k : keys) out[count[digit(k)]++] = k;  // stable: equal digits keep order
    keys.swap(out);
  }
}

constexpr std::uint32_t unseen = UINT32_MAX;

// The table stack of record `r` of `snap`, `kept` brought up to date. Called in record order:
// each snapshot stack is interned at its first use (`of_snapshot`, unseen until then), the order
// in which to_sample(snap) interns snap.stacks (a stack enters snap.stacks with its first
// record), so the tables come out the same as if the kept frames had been copied.
std::uint32_t kept_stack_of(const goroutine_record& r, const snapshot& snap, symbolizer& sym,
                            id_table& kept, std::vector<std::uint32_t>& of_snapshot) {
  if (r.stack == frames_kept) {
    const std::uint32_t was = kept.find(r.id);
    if (was == id_table::none) {
      throw std::logic_error("gprofid::to_sample: kept frames of a goroutine with no stack");
    }
    const std::uint32_t t = sym.restack(was, r.innermost_at);
    if (t != was) kept.assign(r.id, t);
    return t;
  }
  std::uint32_t& t = of_snapshot.at(r.stack);
  if (t == unseen) t = sym.intern_stack(snap.stacks[r.stack]);
  kept.assign(r.id, t);
  return t;
}

sample to_sample_with(const snapshot& snap, std::int64_t origin_ns, symbolizer& sym,
                      id_table* kept) {
  sample s;
  s.time_ns = snap.started_ns - origin_ns;
  s.duration_ns = snap.finished_ns - snap.started_ns;
  s.pause_ns = snap.max_hold_ns;

  // The snapshot already shares stacks; map each of its stacks to a table index once (with
  // kept frames, as records use them: theirs are not in snap.stacks).
  std::vector<std::uint32_t> stack_ids;
  if (kept) {
    stack_ids.assign(snap.stacks.size(), unseen);
  } else {
    stack_ids.reserve(snap.stacks.size());
    for (const auto& st : snap.stacks) stack_ids.push_back(sym.intern_stack(st));
  }

  // Most goroutines of a program come from a handful of sites: remember the last one.
  const char* last_file = nullptr;
  std::uint32_t last_line = 0;
  const void* last_pc = nullptr;
  std::uint32_t last_site = 0;

  // Sorted by id through (id, index) keys: sorting the 100-byte records themselves cost more
  // than building them.
  std::vector<id_key> order;
  order.reserve(snap.goroutines.size());
  for (std::size_t i = 0; i < snap.goroutines.size(); ++i) {
    const goroutine_record& r = snap.goroutines[i];
    order.push_back({r.id, static_cast<std::uint32_t>(i),
                     kept ? kept_stack_of(r, snap, sym, *kept, stack_ids) : stack_ids.at(r.stack)});
  }
  sort_by_id(order);
  s.goroutines.reserve(snap.goroutines.size());
  for (const id_key& key : order) {
    const goroutine_record& r = snap.goroutines[key.index];
    goroutine_sample g;
    g.id = r.id;
    g.parent_id = r.parent_id;
    const auto& loc = r.site.location;
    if (loc.file_name() == last_file && loc.line() == last_line && r.site.pc == last_pc &&
        last_file) {
      g.site = last_site;
    } else {
      g.site = last_site = sym.intern_site(r.site);
      last_file = loc.file_name();
      last_line = loc.line();
      last_pc = r.site.pc;
    }
    g.stack = key.stack;
    g.state = r.state;
    g.reason = r.state == goroutine_state::waiting ? r.reason : wait_reason::none;
    g.created_ns = r.created_ns - origin_ns;
    if (r.state == goroutine_state::waiting && r.wait_since_ns != 0) {
      g.wait_ns = std::max<std::int64_t>(0, snap.started_ns - r.wait_since_ns);
    }
    g.labels = r.labels && !r.labels->empty() ? r.labels : nullptr;
    g.resumes = r.resumes;
    g.running_ns = r.running_ns;
    g.runnable_ns = r.runnable_ns;
    g.blocked_on = r.blocked_on;
    s.goroutines.push_back(std::move(g));
  }
  s.objects = snap.objects;  // already sorted by id
  for (auto& o : s.objects) {
    // On the timer clock, from the same origin as the sample's times (docs/wait-graph.md).
    if (o.kind == wait_object_kind::timer) o.when_ns -= origin_ns;
  }
  // Where each held mutex was taken, as a frame of the tables (the owner's lock() line).
  auto o = s.objects.begin();
  for (const auto& ls : snap.lock_sites) {
    while (o != s.objects.end() && o->id < ls.object) ++o;
    if (o == s.objects.end()) break;
    if (o->id == ls.object) o->locked_at = sym.intern_frame({ls.at, ls.at, nullptr}) + 1;
  }
  return s;
}

}  // namespace

sample to_sample(const snapshot& snap, std::int64_t origin_ns, symbolizer& sym) {
  return to_sample_with(snap, origin_ns, sym, nullptr);
}

sample to_sample(const snapshot& snap, std::int64_t origin_ns, symbolizer& sym, id_table& stacks) {
  return to_sample_with(snap, origin_ns, sym, &stacks);
}

sample goroutine_profile_with_id(runtime& rt, symbolizer& sym) {
  return to_sample(rt.take_snapshot(), rt.started_ns(), sym);
}

profile goroutine_profile_with_id(runtime& rt) {
  symbolizer sym;
  profile p;
  p.snapshot = goroutine_profile_with_id(rt, sym);
  p.tables = sym.tables();
  return p;
}

recording_header header_for(const runtime& rt, std::int64_t interval_ns) {
  recording_header h;
  h.pid = ::getpid();
  h.interval_ns = interval_ns;
  h.workers = static_cast<std::int64_t>(rt.workers());
  const std::int64_t mono_now = monotonic_ns();
  const std::int64_t unix_now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
  h.start_monotonic_ns = rt.started_ns();
  h.start_unix_ns = unix_now - (mono_now - rt.started_ns());
  h.start_wall = format_rfc3339_utc(h.start_unix_ns);
  return h;
}

recording_header own_header_for(const runtime& rt, std::int64_t interval_ns) {
  recording_header h = header_for(rt, interval_ns);
  h.command_line = own_command_line();
  if (!h.command_line.empty()) h.workload = h.command_line.front();
  return h;
}

void write_snapshot_recording(runtime& rt, recording_writer& out) {
  out.write_header(own_header_for(rt, 0));
  symbolizer sym;
  const sample s = goroutine_profile_with_id(rt, sym);
  out.write_sample(s, sym.tables());
  out.write_end({1, end_reason::samples, std::nullopt, std::nullopt});
}

std::vector<std::string> own_command_line() {
  std::vector<std::string> args;
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string arg;
  while (std::getline(in, arg, '\0')) args.push_back(arg);
  return args;
}

}  // namespace gprofid
