#include "fuzz_check.hpp"

#include <algorithm>

namespace gprofid::fuzz {

void check_sample(const sample& s, const symbol_tables& t, std::size_t input_size) {
  for (std::size_t i = 0; i < s.goroutines.size(); ++i) {
    const auto& g = s.goroutines[i];
    check(i == 0 || s.goroutines[i - 1].id < g.id, "goroutines sorted by id, unique");
    check(g.site < t.sites.size(), "site defined");
    check(g.stack < t.stacks.size(), "stack defined");
  }
  for (std::size_t i = 0; i < s.objects.size(); ++i) {
    check(i == 0 || s.objects[i - 1].id < s.objects[i].id, "objects sorted by id, unique");
    check(s.objects[i].kind != wait_object_kind::none, "every object has a kind");
  }
  // A record is at least two bytes (v2) and far more in JSON: one per byte is a generous bound.
  check(s.goroutines.size() <= input_size, "goroutines bounded by the input");
  check(s.objects.size() <= input_size, "objects bounded by the input");
  for (const auto& st : t.stacks) {
    check(std::all_of(st.begin(), st.end(), [&](std::uint32_t f) { return f < t.frames.size(); }),
          "stack frames defined");
  }
}

bool valid_utf8(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are invalid.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

bool terminal_safe(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7F) return false;
    // C1 controls (U+0080..U+009F, e.g. CSI) in UTF-8.
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) < 0xA0 &&
        static_cast<unsigned char>(s[i + 1]) >= 0x80) {
      return false;
    }
  }
  return true;
}

}  // namespace gprofid::fuzz
