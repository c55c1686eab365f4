#include "gprofid/recording/sample.hpp"

#include <algorithm>

namespace gprofid {

const goroutine_sample* find_goroutine(const sample& s, std::uint64_t id) noexcept {
  auto it = std::lower_bound(s.goroutines.begin(), s.goroutines.end(), id,
                             [](const goroutine_sample& g, std::uint64_t v) { return g.id < v; });
  return it != s.goroutines.end() && it->id == id ? &*it : nullptr;
}

const wait_object* find_object(const sample& s, std::uint64_t id) noexcept {
  if (id == 0) return nullptr;
  auto it = std::lower_bound(s.objects.begin(), s.objects.end(), id,
                             [](const wait_object& o, std::uint64_t v) { return o.id < v; });
  return it != s.objects.end() && it->id == id ? &*it : nullptr;
}

}  // namespace gprofid
