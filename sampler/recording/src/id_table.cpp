#include "gprofid/recording/id_table.hpp"

#include <bit>
#include <utility>

namespace gprofid {

void id_table::rehash(std::size_t capacity) {
  std::vector<entry> old = std::exchange(entries_, std::vector<entry>(capacity));
  shift_ = 64 - static_cast<unsigned>(std::countr_zero(capacity));
  for (const entry& e : old) {
    if (e.slot == none) continue;
    std::size_t i = home(e.id);
    while (entries_[i].slot != none) i = (i + 1) & mask();
    entries_[i] = e;
  }
}

void id_table::insert(std::uint64_t id, std::uint32_t slot) {
  // At most 3/4 full: linear probing stays near one probe per lookup.
  if ((size_ + 1) * 4 > entries_.size() * 3) rehash(entries_.empty() ? 16 : entries_.size() * 2);
  std::size_t i = home(id);
  while (entries_[i].slot != none) i = (i + 1) & mask();
  entries_[i] = {id, slot};
  ++size_;
}

void id_table::assign(std::uint64_t id, std::uint32_t slot) {
  if (size_ != 0) {
    for (std::size_t i = home(id);; i = (i + 1) & mask()) {
      entry& e = entries_[i];
      if (e.slot == none) break;
      if (e.id == id) {
        e.slot = slot;
        return;
      }
    }
  }
  insert(id, slot);
}

std::uint32_t id_table::erase(std::uint64_t id) noexcept {
  if (size_ == 0) return none;
  std::size_t i = home(id);
  while (entries_[i].id != id || entries_[i].slot == none) {
    if (entries_[i].slot == none) return none;
    i = (i + 1) & mask();
  }
  const std::uint32_t slot = entries_[i].slot;
  --size_;
  // Backward shift: an entry after the hole moves into it when the hole lies on its probe path
  // (between its home and where it is), so every entry stays reachable from its home.
  for (std::size_t j = (i + 1) & mask();; j = (j + 1) & mask()) {
    if (entries_[j].slot == none) break;
    const std::size_t h = home(entries_[j].id);
    if (((j - h) & mask()) >= ((j - i) & mask())) {
      entries_[i] = entries_[j];
      i = j;
    }
  }
  entries_[i] = {};
  return slot;
}

void id_table::clear() noexcept {
  entries_.clear();
  entries_.shrink_to_fit();
  size_ = 0;
  shift_ = 64;
}

}  // namespace gprofid
