#include "gprofid/labels.hpp"

#include <algorithm>

namespace gprofid {

label_ptr with_label(const label_ptr& base, std::string_view key, std::string_view value) {
  auto next = base ? std::make_shared<label_set>(*base) : std::make_shared<label_set>();
  auto it = std::lower_bound(next->begin(), next->end(), key,
                             [](const auto& kv, std::string_view k) { return kv.first < k; });
  if (it != next->end() && it->first == key) {
    it->second = value;
  } else {
    next->emplace(it, std::string(key), std::string(value));
  }
  return next;
}

const std::string* find_label(const label_set& labels, std::string_view key) noexcept {
  auto it = std::lower_bound(labels.begin(), labels.end(), key,
                             [](const auto& kv, std::string_view k) { return kv.first < k; });
  return it != labels.end() && it->first == key ? &it->second : nullptr;
}

}  // namespace gprofid
