#include "gprofid/analysis/pprof_reader.hpp"

#include <sys/stat.h>

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <unordered_map>

#include "gprofid/analysis/recording_reader.hpp"
#include "gprofid/wait_reason.hpp"
#include "profile.pb.h"

namespace gprofid {
namespace {

namespace pb = perftools::profiles;

// A profile of a million goroutines is ~55 MB of protobuf; more than this is not one of ours.
constexpr std::size_t max_profile_bytes = std::size_t{1} << 30;

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool is_gzip(std::string_view data) {
  return data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
         static_cast<unsigned char>(data[1]) == 0x8b;
}

// Every gzip member of `data`, inflated, at most max_profile_bytes.
std::string gunzip(std::string_view data, const std::string& name) {
  z_stream z{};
  // windowBits 15 + 16: gzip only (a zlib or raw stream is not what pprof writes).
  if (inflateInit2(&z, 15 + 16) != Z_OK) throw std::bad_alloc();
  std::string out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  int rc = Z_OK;
  while (true) {
    if (out.size() >= max_profile_bytes) {
      inflateEnd(&z);
      throw recording_error(name, 0,
                            "gzip data decompresses to more than 1 GiB: not a goroutine profile");
    }
    const std::size_t old = out.size();
    out.resize(old + 65536);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + old);
    z.avail_out = 65536;
    rc = inflate(&z, Z_NO_FLUSH);
    out.resize(old + 65536 - z.avail_out);
    if (rc == Z_STREAM_END) {
      if (z.avail_in == 0) break;
      inflateReset(&z);  // another gzip member follows
      continue;
    }
    if (rc != Z_OK) {
      const std::string why = z.msg ? z.msg : (rc == Z_BUF_ERROR ? "cut short" : "error");
      inflateEnd(&z);
      throw recording_error(name, 0, "corrupt gzip data (" + why + ")");
    }
    if (z.avail_in == 0 && z.avail_out != 0) {
      inflateEnd(&z);
      throw recording_error(name, 0, "corrupt gzip data (cut short)");
    }
  }
  inflateEnd(&z);
  return out;
}

// "gprof-id sample 3 at +1500000000ns" -> seq 3, time 1500000000.
bool parse_sample_comment(std::string_view c, std::uint64_t& seq, std::int64_t& time_ns) {
  constexpr std::string_view head = "gprof-id sample ";
  if (c.substr(0, head.size()) != head) return false;
  c.remove_prefix(head.size());
  auto [p, e] = std::from_chars(c.data(), c.data() + c.size(), seq);
  if (e != std::errc()) return false;
  c.remove_prefix(static_cast<std::size_t>(p - c.data()));
  constexpr std::string_view at = " at +";
  if (c.substr(0, at.size()) != at || !ends_with(c, "ns")) return false;
  c.remove_prefix(at.size());
  c.remove_suffix(2);
  auto [q, e2] = std::from_chars(c.data(), c.data() + c.size(), time_ns);
  return e2 == std::errc() && q == c.data() + c.size();
}

// "function file:line" (the gopc label) -> a site; the function may hold spaces, the file not.
code_location parse_site(std::string_view text) {
  code_location l;
  const auto colon = text.rfind(':');
  const auto space =
      colon == std::string_view::npos ? std::string_view::npos : text.rfind(' ', colon);
  std::uint32_t line = 0;
  if (space != std::string_view::npos) {
    const std::string_view digits = text.substr(colon + 1);
    auto [p, e] = std::from_chars(digits.data(), digits.data() + digits.size(), line);
    if (e == std::errc() && p == digits.data() + digits.size()) {
      l.function = std::string(text.substr(0, space));
      l.file = std::string(text.substr(space + 1, colon - space - 1));
      l.line = line;
      return l;
    }
  }
  l.function = std::string(text);
  return l;
}

class profile_reader {
 public:
  profile_reader(const pb::Profile& p, const std::string& name) : p_(p), name_(name) {}

  pprof_goroutines read() {
    check_type();
    pprof_goroutines out;
    for (const auto& m : p_.mapping()) {
      if (m.id() == 1 || out.program.empty()) out.program = str(m.filename());
    }
    bool have_time = false;
    for (std::int64_t c : p_.comment()) {
      const std::string& text = str(c);
      if (!have_time && parse_sample_comment(text, out.s.seq, out.s.time_ns)) {
        have_time = true;
      } else if (out.header.command_line.empty() && !text.empty()) {
        out.header.command_line.push_back(text);
      }
    }
    out.header.workload = "pprof";
    if (p_.time_nanos() != 0) {
      out.header.start_unix_ns = static_cast<std::int64_t>(
          static_cast<std::uint64_t>(p_.time_nanos()) - static_cast<std::uint64_t>(out.s.time_ns));
    }
    for (const auto& l : p_.location()) locations_.emplace(l.id(), &l);
    for (const auto& f : p_.function()) functions_.emplace(f.id(), &f);
    std::unordered_map<std::uint64_t, int> seen;  // goid -> pprof sample
    out.s.goroutines.reserve(static_cast<std::size_t>(p_.sample_size()));
    for (int i = 0; i < p_.sample_size(); ++i) {
      goroutine_sample g = goroutine(p_.sample(i), i, out.tables);
      if (auto [it, fresh] = seen.emplace(g.id, i); !fresh) {
        fail("goroutine " + std::to_string(g.id) + " is in samples " + std::to_string(it->second) +
             " and " + std::to_string(i));
      }
      out.s.goroutines.push_back(std::move(g));
    }
    std::sort(out.s.goroutines.begin(), out.s.goroutines.end(),
              [](const goroutine_sample& a, const goroutine_sample& b) { return a.id < b.id; });
    return out;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw recording_error(name_, 0, what); }

  const std::string& str(std::int64_t i) const {
    if (i < 0 || i >= p_.string_table_size()) {
      fail("string index " + std::to_string(i) + " is outside the string table");
    }
    return p_.string_table(static_cast<int>(i));
  }

  void check_type() const {
    if (p_.sample_type_size() != 1) {
      fail("a profile of " + std::to_string(p_.sample_type_size()) +
           " sample types, not a goroutine profile");
    }
    const std::string& type = str(p_.sample_type(0).type());
    if (type != "goroutine" && type != "goroutineleak") {
      fail("a " + type + "/" + str(p_.sample_type(0).unit()) + " profile, not a goroutine profile");
    }
  }

  std::uint32_t site(const std::string& text, symbol_tables& t) {
    auto [it, fresh] = sites_.try_emplace(text, static_cast<std::uint32_t>(t.sites.size()));
    if (fresh) t.sites.push_back(parse_site(text));
    return it->second;
  }

  std::uint32_t stack(const pb::Sample& s, int index, symbol_tables& t) {
    std::vector<std::uint32_t> frames;
    for (std::uint64_t id : s.location_id()) {
      auto loc = locations_.find(id);
      if (loc == locations_.end()) {
        fail("sample " + std::to_string(index) + " refers to undefined location " +
             std::to_string(id));
      }
      // A location's lines are innermost first (inlined calls, then their caller), as frames.
      for (int k = 0; k < loc->second->line_size(); ++k) {
        auto [it, fresh] =
            frames_.try_emplace({id, k}, static_cast<std::uint32_t>(t.frames.size()));
        if (fresh) {
          const pb::Line& line = loc->second->line(k);
          code_location f;
          if (auto fn = functions_.find(line.function_id()); fn != functions_.end()) {
            f.function = str(fn->second->name());
            f.file = str(fn->second->filename());
          }
          f.line = static_cast<std::uint32_t>(
              std::clamp<std::int64_t>(line.line(), 0, std::numeric_limits<std::uint32_t>::max()));
          f.pc = loc->second->address();
          t.frames.push_back(std::move(f));
        }
        frames.push_back(it->second);
      }
    }
    auto [it, fresh] = stacks_.try_emplace(frames, static_cast<std::uint32_t>(t.stacks.size()));
    if (fresh) t.stacks.push_back(std::move(frames));
    return it->second;
  }

  goroutine_sample goroutine(const pb::Sample& s, int index, symbol_tables& t) {
    goroutine_sample g;
    const std::string where = "sample " + std::to_string(index);
    bool have_id = false, have_site = false;
    label_set labels;
    for (const pb::Label& l : s.label()) {
      const std::string& key = str(l.key());
      if (l.str() == 0) {  // a number
        if (key == "goid") {
          g.id = static_cast<std::uint64_t>(l.num());
          have_id = true;
        } else if (key == "parent_goid") {
          g.parent_id = static_cast<std::uint64_t>(l.num());
        } else if (key == "wait_ns") {
          g.wait_ns = l.num();
        }
        continue;
      }
      const std::string& value = str(l.str());
      if (key == "state") {
        auto st = parse_goroutine_state(value);
        if (!st) fail(where + ": unknown state \"" + value + "\"");
        g.state = *st;
      } else if (key == "wait_reason") {
        auto r = parse_wait_reason(value);
        if (!r) fail(where + ": unknown wait_reason \"" + value + "\"");
        g.reason = *r;
      } else if (key == "gopc") {
        g.site = site(value, t);
        have_site = true;
      } else if (key != "leak_rule" && key != "blocked_on") {
        labels.emplace_back(key, value);
      }
    }
    if (!have_id) {
      fail(where +
           " has no goid label: not a profile a gprof-id program wrote (Go's own "
           "goroutine profiles have no goroutine ids to join by)");
    }
    if (!have_site) g.site = site("", t);
    g.stack = stack(s, index, t);
    if (!labels.empty()) {
      std::sort(labels.begin(), labels.end());
      labels.erase(std::unique(labels.begin(), labels.end(),
                               [](const auto& a, const auto& b) { return a.first == b.first; }),
                   labels.end());
      g.labels = std::make_shared<const label_set>(std::move(labels));
    }
    return g;
  }

  const pb::Profile& p_;
  const std::string& name_;
  std::unordered_map<std::uint64_t, const pb::Location*> locations_;
  std::unordered_map<std::uint64_t, const pb::Function*> functions_;
  std::map<std::pair<std::uint64_t, int>, std::uint32_t> frames_;
  std::map<std::vector<std::uint32_t>, std::uint32_t> stacks_;
  std::unordered_map<std::string, std::uint32_t> sites_;
};

}  // namespace

bool looks_like_pprof(const std::string& path) {
  if (ends_with(path, ".pb.gz") || ends_with(path, ".pb") || ends_with(path, ".pprof")) return true;
  // Only a regular file is looked into: the bytes read from a FIFO would be gone for the
  // recording read after (fault_test: diff fifo@0 fifo@-1).
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  std::ifstream in(path, std::ios::binary);
  char magic[2] = {};
  return in.read(magic, 2) && is_gzip(std::string_view(magic, 2));
}

pprof_goroutines parse_pprof_goroutines(std::string_view gzipped, const std::string& name) {
  if (!is_gzip(gzipped)) {
    throw recording_error(name, 0,
                          "not gzip data: a pprof profile is gzip-compressed profile.proto "
                          "(fetch /debug/pprof/goroutine without debug=)");
  }
  const std::string raw = gunzip(gzipped, name);
  pb::Profile p;
  if (raw.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
      !p.ParseFromString(raw)) {
    throw recording_error(name, 0, "gzip data that is not a pprof profile (profile.proto)");
  }
  return profile_reader(p, name).read();
}

pprof_goroutines read_pprof_goroutines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw recording_error(path, 0, std::string("cannot open: ") + std::strerror(errno));
  std::string data;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    data.append(buf, static_cast<std::size_t>(in.gcount()));
    if (data.size() > max_profile_bytes) {
      throw recording_error(path, 0, "over 1 GiB: not a goroutine profile");
    }
  }
  if (in.bad()) throw recording_error(path, 0, std::string("read error: ") + std::strerror(errno));
  return parse_pprof_goroutines(data, path);
}

}  // namespace gprofid
