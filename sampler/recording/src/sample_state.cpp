#include "gprofid/recording/sample_state.hpp"

#include <algorithm>
#include <stdexcept>

#include "gallop.hpp"

namespace gprofid {
namespace {

bool is_waiting(const goroutine_sample& g) noexcept {
  return g.state == goroutine_state::waiting;
}

}  // namespace

void sample_state::reset(const sample& s) {
  entries_.clear();
  gone_ = 0;
  entries_.reserve(s.goroutines.size());
  for (const auto& g : s.goroutines) entries_.push_back({g, s.time_ns - g.wait_ns, false});
  time_ns_ = s.time_ns;
  header_.seq = s.seq;
  header_.time_ns = s.time_ns;
  header_.duration_ns = s.duration_ns;
  header_.pause_ns = s.pause_ns;
  header_.objects = s.objects;
}

sample_state::entry* sample_state::find_from(std::uint64_t id, std::size_t& from) noexcept {
  const auto it = detail::gallop_lower_bound(
      entries_.begin() + static_cast<std::ptrdiff_t>(from), entries_.end(), id,
      [](const entry& e, std::uint64_t v) { return e.g.id < v; });
  from = static_cast<std::size_t>(it - entries_.begin());
  return it != entries_.end() && it->g.id == id ? &*it : nullptr;
}

void sample_state::put(const goroutine_sample& g, entry* at) {
  const entry e{g, time_ns_ - g.wait_ns, false};
  if (at) {
    if (at->gone) --gone_;
    *at = e;
  } else if (entries_.empty() || entries_.back().g.id < g.id) {  // a new, higher id
    entries_.push_back(e);
  } else {
    inserts_.push_back(e);  // below the last id: merged after the loop, in id order
  }
}

void sample_state::apply(sample_delta& d) {
  time_ns_ = d.time_ns;
  // Both lists are sorted: each lookup starts where the previous one ended.
  std::size_t kept = 0, from = 0;
  for (std::uint64_t id : d.exited) {
    entry* e = find_from(id, from);
    if (!e || e->gone) continue;
    e->gone = true;
    ++gone_;
    d.exited[kept++] = id;
  }
  d.exited.resize(kept);
  inserts_.clear();
  from = 0;
  for (const auto& g : d.changed) {
    entry* e = find_from(g.id, from);
    if (e && e->gone && std::binary_search(d.exited.begin(), d.exited.end(), g.id)) {
      throw std::logic_error("sample_state: goroutine both exited and changed");
    }
    put(g, e);
  }
  from = 0;
  for (const auto& w : d.waits) {
    entry* e = find_from(w.id, from);
    if (e && !e->gone) e->g.blocked_on = w.blocked_on;
  }
  if (!inserts_.empty()) {
    const auto middle = entries_.insert(entries_.end(), inserts_.begin(), inserts_.end());
    std::inplace_merge(entries_.begin(), middle, entries_.end(),
                       [](const entry& a, const entry& b) { return a.g.id < b.g.id; });
  }
  // Exits leave holes that lookups step over; squeeze them out once they are an eighth.
  if (gone_ > 64 && gone_ * 8 > entries_.size()) compact();
  header_.seq = d.seq;
  header_.time_ns = d.time_ns;
  header_.duration_ns = d.duration_ns;
  header_.pause_ns = d.pause_ns;
  if (d.graph) header_.objects = d.objects;  // else kept
}

void sample_state::compact() {
  std::erase_if(entries_, [](const entry& e) { return e.gone; });
  gone_ = 0;
}

void sample_state::materialise(sample& out) const {
  out.seq = header_.seq;
  out.time_ns = header_.time_ns;
  out.duration_ns = header_.duration_ns;
  out.pause_ns = header_.pause_ns;
  out.objects = header_.objects;
  out.goroutines.clear();
  out.goroutines.reserve(size());
  for (const auto& e : entries_) {
    if (e.gone) continue;
    out.goroutines.push_back(e.g);
    if (is_waiting(e.g)) out.goroutines.back().wait_ns = time_ns_ - e.wait_origin;
  }
}

}  // namespace gprofid
