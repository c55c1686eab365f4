#include "jsonl_fast_sample.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <limits>
#include <string>

#include "gprofid/recording/json_text.hpp"

namespace gprofid {
namespace {

// Thrown nowhere: every function returns false to give up, and the caller falls back.
class scanner {
 public:
  explicit scanner(std::string_view s) : p_(s.data()), end_(s.data() + s.size()) {}

  void ws() noexcept {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\r' || *p_ == '\n')) ++p_;
  }
  bool eat(char c) noexcept {
    ws();
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }
  bool peek(char c) noexcept {
    ws();
    return p_ != end_ && *p_ == c;
  }
  bool at_end() noexcept {
    ws();
    return p_ == end_;
  }

  // A string without escapes or control characters, valid UTF-8. Plain ASCII is scanned by
  // table, a byte at a time with one load and one test (the hot loop of a v1 sample line).
  bool string(std::string_view& out) noexcept {
    if (!eat('"')) return false;
    const char* b = p_;
    bool ascii = true;
    while (p_ != end_) {
      const auto c = static_cast<unsigned char>(*p_);
      if (!special[c]) {
        ++p_;
        continue;
      }
      if (c == '"') break;
      if (c == '\\' || c < 0x20) return false;
      ascii = false;  // a byte of a multi-byte sequence: checked below
      ++p_;
    }
    if (p_ == end_) return false;
    out = std::string_view(b, static_cast<std::size_t>(p_ - b));
    ++p_;
    return ascii || sanitize_utf8(out) == out;
  }

  // JSON integers as nlohmann reads them: no sign for unsigned, no leading zeros, no fraction
  // or exponent (which would make it a float), in range.
  bool uint(std::uint64_t& v) noexcept {
    ws();
    return digits(v) && !number_continues();
  }
  bool sint(std::int64_t& v) noexcept {
    ws();
    const bool neg = p_ != end_ && *p_ == '-';
    if (neg) ++p_;
    std::uint64_t u = 0;
    if (!digits(u) || number_continues()) return false;
    const std::uint64_t max = std::uint64_t(std::numeric_limits<std::int64_t>::max());
    if (neg) {
      if (u > max + 1) return false;
      v = u == max + 1 ? std::numeric_limits<std::int64_t>::min() : -static_cast<std::int64_t>(u);
    } else {
      if (u > max) return false;
      v = static_cast<std::int64_t>(u);
    }
    return true;
  }

  // Skips one value of a field the reader does not know, validating it as strictly as the DOM
  // parser would (when in doubt: give up).
  bool skip_value(int depth = 0) noexcept {
    if (depth > 32) return false;
    ws();
    if (p_ == end_) return false;
    std::string_view s;
    std::int64_t i = 0;
    switch (*p_) {
      case '"':
        return string(s);
      case '{':
        ++p_;
        if (eat('}')) return true;
        do {
          if (!string(s) || !eat(':') || !skip_value(depth + 1)) return false;
        } while (eat(','));
        return eat('}');
      case '[':
        ++p_;
        if (eat(']')) return true;
        do {
          if (!skip_value(depth + 1)) return false;
        } while (eat(','));
        return eat(']');
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        return sint(i);
    }
  }

 private:
  bool digits(std::uint64_t& v) noexcept {
    if (p_ == end_ || *p_ < '0' || *p_ > '9') return false;
    if (*p_ == '0' && p_ + 1 != end_ && p_[1] >= '0' && p_[1] <= '9') return false;
    // 19 digits always fit in 64 bits; a 20th may overflow, which is checked.
    std::uint64_t x = 0;
    int n = 0;
    for (; p_ != end_ && *p_ >= '0' && *p_ <= '9'; ++p_, ++n) {
      const auto d = static_cast<std::uint64_t>(*p_ - '0');
      if (n >= 19 && (x > (UINT64_MAX - d) / 10)) return false;
      x = x * 10 + d;
    }
    v = x;
    return true;
  }
  bool number_continues() const noexcept {
    return p_ != end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E');
  }
  bool literal(std::string_view word) noexcept {
    if (static_cast<std::size_t>(end_ - p_) < word.size() ||
        std::string_view(p_, word.size()) != word)
      return false;
    p_ += word.size();
    return true;
  }

  // The bytes string() stops at: '"', '\\', control characters and non-ASCII.
  static constexpr auto special = [] {
    std::array<bool, 256> t{};
    for (int c = 0; c < 256; ++c) t[c] = c == '"' || c == '\\' || c < 0x20 || c >= 0x80;
    return t;
  }();

  const char* p_;
  const char* end_;
};

// Each field at most once: nlohmann keeps the last of duplicate keys, we would keep the first.
class seen_fields {
 public:
  bool first(int bit) noexcept {
    if (bits_ & (1u << bit)) return false;
    bits_ |= 1u << bit;
    return true;
  }
  bool all(unsigned mask) const noexcept { return (bits_ & mask) == mask; }

 private:
  unsigned bits_ = 0;
};

bool read_labels(scanner& sc, label_ptr& labels, label_ptr& previous) {
  if (!sc.eat('{')) return false;
  label_set set;
  if (!sc.eat('}')) {
    do {
      std::string_view k, v;
      if (!sc.string(k) || !sc.eat(':') || !sc.string(v)) return false;
      set.emplace_back(std::string(k), std::string(v));
    } while (sc.eat(','));
    if (!sc.eat('}')) return false;
  }
  // As nlohmann's objects iterate: sorted by key. Duplicate keys: give up.
  std::sort(set.begin(), set.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  if (std::adjacent_find(set.begin(), set.end(), [](const auto& a, const auto& b) {
        return a.first == b.first;
      }) != set.end())
    return false;
  if (previous && *previous == set) {
    labels = previous;
  } else {
    previous = std::make_shared<const label_set>(std::move(set));
    labels = previous;
  }
  return true;
}

bool read_goroutine(scanner& sc, const symbol_tables& t, goroutine_sample& g,
                    label_ptr& previous_labels) {
  enum {
    id,
    parent,
    site,
    stack,
    state,
    wait,
    wait_ns,
    created_ns,
    labels,
    resumes,
    running_ns,
    runnable_ns
  };
  constexpr unsigned required = 1u << id | 1u << parent | 1u << site | 1u << stack | 1u << state |
                                1u << wait_ns | 1u << created_ns | 1u << resumes |
                                1u << running_ns | 1u << runnable_ns;
  if (!sc.eat('{')) return false;
  seen_fields seen;
  if (!sc.peek('}')) {
    do {
      std::string_view key, text;
      std::uint64_t u = 0;
      if (!sc.string(key) || !sc.eat(':')) return false;
      if (key == "id") {
        if (!seen.first(id) || !sc.uint(g.id)) return false;
      } else if (key == "parent") {
        if (!seen.first(parent) || !sc.uint(g.parent_id)) return false;
      } else if (key == "site") {
        if (!seen.first(site) || !sc.uint(u) || u >= t.sites.size()) return false;
        g.site = static_cast<std::uint32_t>(u);
      } else if (key == "stack") {
        if (!seen.first(stack) || !sc.uint(u) || u >= t.stacks.size()) return false;
        g.stack = static_cast<std::uint32_t>(u);
      } else if (key == "state") {
        if (!seen.first(state) || !sc.string(text)) return false;
        auto st = parse_goroutine_state(text);
        if (!st) return false;
        g.state = *st;
      } else if (key == "wait") {
        if (!seen.first(wait) || !sc.string(text)) return false;
        auto r = parse_wait_reason(text);
        if (!r) return false;
        g.reason = *r;
      } else if (key == "wait_ns") {
        if (!seen.first(wait_ns) || !sc.sint(g.wait_ns)) return false;
      } else if (key == "created_ns") {
        if (!seen.first(created_ns) || !sc.sint(g.created_ns)) return false;
      } else if (key == "labels") {
        if (!seen.first(labels) || !read_labels(sc, g.labels, previous_labels)) return false;
      } else if (key == "resumes") {
        if (!seen.first(resumes) || !sc.uint(g.resumes)) return false;
      } else if (key == "running_ns") {
        if (!seen.first(running_ns) || !sc.sint(g.running_ns)) return false;
      } else if (key == "runnable_ns") {
        if (!seen.first(runnable_ns) || !sc.sint(g.runnable_ns)) return false;
      } else if (key == "blocked_on" || !sc.skip_value()) {
        // The wait-for graph is read by the DOM path.
        return false;  // an unknown field: ignored, as the DOM path ignores it
      }
    } while (sc.eat(','));
  }
  return sc.eat('}') && seen.all(required);
}

}  // namespace

bool parse_sample_line_fast(std::string_view line, const symbol_tables& tables, sample& out,
                            label_ptr& previous_labels) {
  enum { type, seq, t_ns, snapshot_ns, pause_ns, goroutines };
  scanner sc(line);
  seen_fields seen;
  out.goroutines.clear();
  out.objects.clear();  // the line has no graph (the caller checked): none from a sample before
  if (!sc.eat('{')) return false;
  do {
    std::string_view key, text;
    if (!sc.string(key) || !sc.eat(':')) return false;
    if (key == "type") {
      if (!seen.first(type) || !sc.string(text) || text != "sample") return false;
    } else if (key == "seq") {
      if (!seen.first(seq) || !sc.uint(out.seq)) return false;
    } else if (key == "t_ns") {
      if (!seen.first(t_ns) || !sc.sint(out.time_ns)) return false;
    } else if (key == "snapshot_ns") {
      if (!seen.first(snapshot_ns) || !sc.sint(out.duration_ns)) return false;
    } else if (key == "pause_ns") {
      if (!seen.first(pause_ns) || !sc.sint(out.pause_ns)) return false;
    } else if (key == "goroutines") {
      if (!seen.first(goroutines) || !sc.eat('[')) return false;
      if (!sc.eat(']')) {
        do {
          if (!read_goroutine(sc, tables, out.goroutines.emplace_back(), previous_labels)) {
            return false;
          }
        } while (sc.eat(','));
        if (!sc.eat(']')) return false;
      }
    } else if (key == "objects" || key == "more_objects" || !sc.skip_value()) {
      return false;  // the wait-for graph is read by the DOM path
    }
  } while (sc.eat(','));
  return sc.eat('}') && sc.at_end() && seen.all(0x3F);
}

}  // namespace gprofid
