// Turns the runtime's source locations and code addresses into the interned strings of a
// recording, across successive samples: each site, frame and stack gets one table entry, once.
#pragma once

#include <bit>
#include <cstdint>
#include <source_location>
#include <unordered_map>
#include <vector>

#include "gprofid/detail/goroutine.hpp"
#include "gprofid/recording/sample.hpp"
#include "gprofid/snapshot.hpp"

namespace gprofid {

class symbolizer {
 public:
  const symbol_tables& tables() const noexcept { return tables_; }

  std::uint32_t intern_site(const spawn_site& s);
  std::uint32_t intern_frame(const stack_frame& f);
  std::uint32_t intern_stack(const stack_trace& frames);
  // The stack of a goroutine whose frames did not move since it had table stack `stack`
  // (goroutine_record::stack == frames_kept): `stack` itself while its innermost frame waits at
  // the same line, else that stack with the innermost frame at `innermost_at`, interned as
  // intern_stack interns it (the same index for the same frames).
  std::uint32_t restack(std::uint32_t stack, std::source_location innermost_at) {
    // The same co_await (one source_location object per expression) is the same frame entry:
    // one compare for the goroutine parked again where it was.
    if (stack < innermost_.size() && std::bit_cast<const void*>(innermost_[stack].call_site) ==
                                         std::bit_cast<const void*>(innermost_at)) {
      return stack;
    }
    return restack_moved(stack, innermost_at);
  }

  // The marks of the last take_new() call (zeros at first), and records the current sizes, so
  // that [returned mark, tables().size) is exactly what was added in between.
  table_marks take_new() noexcept;
  // The current sizes.
  table_marks marks() const noexcept;

 private:
  // Pointer identity of a location: source_location strings are literals with stable addresses,
  // so the fast path never builds a string.
  struct location_key {
    const char* function;
    const char* file;
    std::uint32_t line;
    const void* pc;
    friend bool operator==(const location_key&, const location_key&) = default;
  };
  struct key_hash {
    std::size_t operator()(const location_key& k) const noexcept;
    std::size_t operator()(const code_location& l) const noexcept;
    std::size_t operator()(const std::vector<std::uint32_t>& v) const noexcept;
  };
  using content_index = std::unordered_map<code_location, std::uint32_t, key_hash>;

  std::uint32_t restack_moved(std::uint32_t stack, std::source_location innermost_at);
  // The stack of the frame ids in scratch_, whose innermost frame is `innermost`.
  std::uint32_t intern_scratch(const stack_frame& innermost);
  std::uint32_t intern(location_key key,
                       std::unordered_map<location_key, std::uint32_t, key_hash>& by_key,
                       content_index& by_content, std::vector<code_location>& table,
                       code_location (*make)(const location_key&));

  symbol_tables tables_;
  table_marks published_;
  std::unordered_map<location_key, std::uint32_t, key_hash> site_keys_, frame_keys_;
  content_index site_content_, frame_content_;
  std::unordered_map<std::vector<std::uint32_t>, std::uint32_t, key_hash> stack_index_;
  std::vector<std::uint32_t> scratch_;
  // Per table stack, its innermost frame as the runtime gave it (function and pc, for restack).
  std::vector<stack_frame> innermost_;
};

}  // namespace gprofid
