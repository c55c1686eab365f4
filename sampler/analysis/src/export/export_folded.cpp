#include "gprofid/analysis/export_folded.hpp"

#include <algorithm>
#include <sstream>

#include "gprofid/analysis/text_escape.hpp"
#include "gprofid/saturating.hpp"

namespace gprofid {
namespace {

// ';' separates frames and the last space the count; a frame may contain spaces, not ';' or a
// newline. Control characters are escaped: folded files end up printed on terminals too.
std::string frame_name(const code_location& f, bool lines) {
  std::string name = f.function;
  if (lines) name += " " + f.file + ":" + std::to_string(f.line);
  std::replace(name.begin(), name.end(), ';', ',');
  std::replace(name.begin(), name.end(), '\n', ' ');
  return is_plain_text(name) ? name : escape_text(name);
}

}  // namespace

void folded_builder::add_wait(const open_wait& w) {
  // Weights are sums of times from the file: they saturate at UINT64_MAX instead of wrapping.
  if (w.wait_ns <= 0) return;
  std::uint64_t& weight = weights_[folded_.at(w.stack)];
  weight = saturating_add(weight, static_cast<std::uint64_t>(w.wait_ns));
}

const std::string& folded_builder::folded_stack(const symbol_tables& tables, std::uint32_t stack) {
  auto [it, inserted] = folded_.try_emplace(stack);
  if (!inserted) return it->second;
  const auto& frames = tables.stacks.at(stack);
  // Stacks are stored innermost first; folded lines start at the root.
  for (auto f = frames.rbegin(); f != frames.rend(); ++f) {
    if (!it->second.empty()) it->second += ';';
    it->second += frame_name(tables.frames.at(*f), options_.lines);
  }
  if (it->second.empty()) it->second = "[no frames]";
  return it->second;
}

void folded_builder::flush_waits(std::int64_t now, bool all) {
  for (auto it = waits_.begin(); it != waits_.end();) {
    if (all || it->second.seen_ns != now) {
      add_wait(it->second);
      it = waits_.erase(it);
    } else {
      ++it;
    }
  }
}

void folded_builder::add(const symbol_tables& tables, const sample& s) {
  const std::int64_t now = s.time_ns;
  for (const goroutine_sample& g : s.goroutines) {
    if (g.state == goroutine_state::dead) continue;
    const std::string& stack = folded_stack(tables, g.stack);
    if (options_.weight == folded_weight::goroutines) {
      ++weights_[stack];
      continue;
    }
    if (g.state != goroutine_state::waiting) continue;
    // The same wait seen again: it is still in the same place and began before the last sample.
    auto it = waits_.find(g.id);
    if (it != waits_.end() && it->second.stack == g.stack &&
        g.wait_ns >= saturating_sub(now, it->second.seen_ns)) {
      it->second.wait_ns = g.wait_ns;
      it->second.seen_ns = now;
      continue;
    }
    if (it != waits_.end()) add_wait(it->second);
    waits_[g.id] = {g.stack, g.wait_ns, now};
  }
  // Waits not seen in this sample have ended.
  flush_waits(now, false);
}

void folded_builder::write(std::ostream& out) {
  if (by_changes_ && samples_ > 0) {
    for (auto& [id, w] : waits_) bring_up_to(w, last_ns_);  // the waits going on at the end
  }
  flush_waits(0, true);
  for (const auto& [stack, weight] : weights_) {
    if (weight > 0) out << stack << ' ' << weight << '\n';
  }
}

std::string folded_builder::str() {
  std::ostringstream out;
  write(out);
  return out.str();
}

std::string folded_stacks(const symbol_tables& tables, const std::vector<sample>& samples,
                          folded_options options) {
  folded_builder b(options);
  for (const sample& s : samples) b.add(tables, s);
  return b.str();
}

}  // namespace gprofid
