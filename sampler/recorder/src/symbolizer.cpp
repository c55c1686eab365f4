#include "gprofid/recorder/symbolizer.hpp"

#include <functional>
#include <stdexcept>
#include <string_view>

#include "gprofid/detail/function_name.hpp"

namespace gprofid {
namespace {

std::size_t mix(std::size_t h, std::size_t v) noexcept {
  return (h ^ v) * 1099511628211ULL;
}

code_location make_location(const char* function, const char* file, std::uint32_t line,
                            const void* pc) {
  return code_location{display_function_name(function ? function : ""), file ? file : "", line,
                       reinterpret_cast<std::uintptr_t>(pc)};
}

}  // namespace

std::size_t symbolizer::key_hash::operator()(const location_key& k) const noexcept {
  std::size_t h = 1469598103934665603ULL;
  h = mix(h, reinterpret_cast<std::uintptr_t>(k.function));
  h = mix(h, reinterpret_cast<std::uintptr_t>(k.file));
  h = mix(h, k.line);
  return mix(h, reinterpret_cast<std::uintptr_t>(k.pc));
}

std::size_t symbolizer::key_hash::operator()(const code_location& l) const noexcept {
  std::size_t h = std::hash<std::string_view>{}(l.function);
  h = mix(h, std::hash<std::string_view>{}(l.file));
  h = mix(h, l.line);
  return mix(h, l.pc);
}

std::size_t symbolizer::key_hash::operator()(const std::vector<std::uint32_t>& v) const noexcept {
  std::size_t h = 1469598103934665603ULL;
  for (auto x : v) h = mix(h, x);
  return h;
}

std::uint32_t symbolizer::intern(location_key key,
                                 std::unordered_map<location_key, std::uint32_t, key_hash>& by_key,
                                 content_index& by_content, std::vector<code_location>& table,
                                 code_location (*make)(const location_key&)) {
  if (auto it = by_key.find(key); it != by_key.end()) return it->second;
  // The same text can come from different pointers (e.g. one inline function's name emitted in
  // two translation units); such keys share the entry.
  code_location loc = make(key);
  auto [it, fresh] = by_content.try_emplace(loc, static_cast<std::uint32_t>(table.size()));
  if (fresh) table.push_back(std::move(loc));
  by_key.emplace(key, it->second);
  return it->second;
}

std::uint32_t symbolizer::intern_site(const spawn_site& s) {
  location_key key{s.location.function_name(), s.location.file_name(), s.location.line(), s.pc};
  return intern(key, site_keys_, site_content_, tables_.sites, [](const location_key& k) {
    return make_location(k.function, k.file, k.line, k.pc);
  });
}

std::uint32_t symbolizer::intern_frame(const stack_frame& f) {
  // A frame that has not passed a co_await yet has no call site: show its function's own line.
  const auto& where = f.call_site.line() != 0 ? f.call_site : f.function;
  location_key key{f.function.function_name(), where.file_name(), where.line(), f.pc};
  return intern(key, frame_keys_, frame_content_, tables_.frames, [](const location_key& k) {
    return make_location(k.function, k.file, k.line, k.pc);
  });
}

std::uint32_t symbolizer::intern_stack(const stack_trace& frames) {
  scratch_.clear();
  for (const auto& f : frames) scratch_.push_back(intern_frame(f));
  return intern_scratch(frames.empty() ? stack_frame{} : frames.front());
}

std::uint32_t symbolizer::intern_scratch(const stack_frame& innermost) {
  auto [it, fresh] =
      stack_index_.try_emplace(scratch_, static_cast<std::uint32_t>(tables_.stacks.size()));
  if (fresh) {
    tables_.stacks.push_back(scratch_);
    innermost_.push_back(innermost);
  }
  return it->second;
}

std::uint32_t symbolizer::restack_moved(std::uint32_t stack, std::source_location innermost_at) {
  if (stack >= innermost_.size() || tables_.stacks[stack].empty()) {
    throw std::logic_error("gprofid::symbolizer::restack: no such stack");
  }
  const stack_frame& was = innermost_[stack];
  // Another co_await at the same file and line is the same frame entry (intern_frame's key);
  // another line is usually a new one, and rarely the same text by another pointer, which
  // interning finds.
  if (innermost_at.line() == was.call_site.line() &&
      innermost_at.file_name() == was.call_site.file_name()) {
    return stack;
  }
  const stack_frame now{was.function, innermost_at, was.pc};
  scratch_ = tables_.stacks[stack];
  scratch_.front() = intern_frame(now);
  return intern_scratch(now);
}

table_marks symbolizer::marks() const noexcept {
  return {static_cast<std::uint32_t>(tables_.sites.size()),
          static_cast<std::uint32_t>(tables_.frames.size()),
          static_cast<std::uint32_t>(tables_.stacks.size())};
}

table_marks symbolizer::take_new() noexcept {
  table_marks from = published_;
  published_ = marks();
  return from;
}

}  // namespace gprofid
