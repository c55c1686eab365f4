// The label sets of the last two v1 samples by the JSON text they were read from. A goroutine's
// labels rarely change from one sample to the next, so the fast path finds most of them by
// their text without building a string; memory is bounded by two samples' distinct sets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "gprofid/recording/sample.hpp"

namespace gprofid::jsonl_fast {

class label_cache {
 public:
  // The set read from exactly this text in this sample or the one before, or null.
  label_ptr find(std::string_view text) {
    auto it = sets_.find(text);
    if (it == sets_.end()) return nullptr;
    mark_used(it->second);
    return it->second.labels;
  }
  void insert(std::string_view text, const label_ptr& labels) {
    auto [it, added] = sets_.emplace(std::string(text), entry{labels, 0});
    if (added) mark_used(it->second);
  }
  // A new sample begins. Sets used in neither it nor the one before are dropped once they
  // outnumber the used ones, so the sweep costs O(1) per set read.
  void next_sample() {
    used_before_ = used_now_;
    used_now_ = 0;
    ++sample_;
    if (sets_.size() > 2 * used_before_ + 1024) {
      std::erase_if(sets_, [&](const auto& kv) { return kv.second.last_used + 1 < sample_; });
    }
  }

 private:
  struct entry {
    label_ptr labels;
    std::uint64_t last_used;  // the number of the last sample that read it
  };
  struct text_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  void mark_used(entry& e) noexcept {
    if (e.last_used != sample_) {
      e.last_used = sample_;
      ++used_now_;
    }
  }

  std::unordered_map<std::string, entry, text_hash, std::equal_to<>> sets_;
  std::uint64_t sample_ = 1;
  std::size_t used_now_ = 0, used_before_ = 0;
};

}  // namespace gprofid::jsonl_fast
