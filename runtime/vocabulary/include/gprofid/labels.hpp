// Goroutine labels: immutable key/value sets shared between a goroutine and the children that
// inherit them (Go's pprof.SetGoroutineLabels), replaced copy-on-write when a goroutine sets one.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gprofid {

// Sorted by key, keys unique.
using label_set = std::vector<std::pair<std::string, std::string>>;
using label_ptr = std::shared_ptr<const label_set>;

// A copy of `base` with `key` set to `value`.
label_ptr with_label(const label_ptr& base, std::string_view key, std::string_view value);

// The value of `key` in `labels`, or nullptr.
const std::string* find_label(const label_set& labels, std::string_view key) noexcept;

}  // namespace gprofid
