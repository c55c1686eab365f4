#include "gprofid/analysis/recording_reader.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <system_error>

#include <nlohmann/json.hpp>

#include "gprofid/recording/json_text.hpp"
#include "gprofid/recording/recording_format_v2.hpp"
#include "jsonl_fast_sample.hpp"
#include "v2_reader.hpp"

namespace gprofid {
namespace {

using json = nlohmann::json;

// A problem with the current line; the reader adds the file name and line number.
struct line_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string in_quotes(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

const char* type_name(const json& v) {
  if (v.is_number_float()) {
    // 1e40 or 18446744073709551616 is a whole number nlohmann could only hold as a double.
    const double d = v.get<double>();
    if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) >= 9.2e18) {
      return "a number out of range";
    }
    return "a fraction";
  }
  if (v.is_number_integer()) return v.is_number_unsigned() ? "an integer" : "a negative integer";
  return v.type_name();
}

const json& field(const json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    throw line_error(where + ": missing required field " + in_quotes(key));
  }
  return *it;
}

[[noreturn]] void wrong_type(const char* key, const std::string& where, const char* want,
                             const json& got) {
  throw line_error(where + ": field " + in_quotes(key) + " must be " + want + ", got " +
                   type_name(got));
}

std::uint64_t get_uint(const json& obj, const char* key, const std::string& where,
                       std::uint64_t max = std::numeric_limits<std::uint64_t>::max()) {
  const json& v = field(obj, key, where);
  if (!v.is_number_unsigned()) wrong_type(key, where, "a non-negative integer", v);
  auto x = v.get<std::uint64_t>();
  if (x > max) {
    throw line_error(where + ": field " + in_quotes(key) +
                     " is out of range: " + std::to_string(x));
  }
  return x;
}

std::int64_t get_int(const json& obj, const char* key, const std::string& where) {
  const json& v = field(obj, key, where);
  if (!v.is_number_integer()) wrong_type(key, where, "an integer", v);
  if (v.is_number_unsigned() &&
      v.get<std::uint64_t>() > std::uint64_t(std::numeric_limits<std::int64_t>::max())) {
    throw line_error(where + ": field " + in_quotes(key) + " is out of range");
  }
  return v.get<std::int64_t>();
}

const std::string& get_string(const json& obj, const char* key, const std::string& where) {
  const json& v = field(obj, key, where);
  if (!v.is_string()) wrong_type(key, where, "a string", v);
  return v.get_ref<const std::string&>();
}

std::optional<int> get_optional_int(const json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) wrong_type(key, where, "an integer or null", *it);
  auto v = it->get<std::int64_t>();
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) {
    throw line_error(where + ": field " + in_quotes(key) + " is out of range");
  }
  return static_cast<int>(v);
}

std::uint64_t parse_hex(const json& v, const char* key, const std::string& where) {
  if (!v.is_string()) wrong_type(key, where, "a hex string", v);
  const std::string& s = v.get_ref<const std::string&>();
  std::uint64_t x = 0;
  if (s.size() < 3 || s.compare(0, 2, "0x") != 0 ||
      std::from_chars(s.data() + 2, s.data() + s.size(), x, 16).ptr != s.data() + s.size()) {
    throw line_error(where + ": field " + in_quotes(key) +
                     " must be a hex string like \"0x4a1f20\", got " + in_quotes(s));
  }
  return x;
}

std::uint64_t parse_pc(const json& obj, const std::string& where) {
  return parse_hex(field(obj, "pc", where), "pc", where);
}

// Optional fields of wait objects: absent means the default.
std::uint64_t opt_uint(const json& obj, const char* key, const std::string& where,
                       std::uint64_t max = std::numeric_limits<std::uint64_t>::max()) {
  return obj.contains(key) ? get_uint(obj, key, where, max) : 0;
}

bool opt_bool(const json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end()) return false;
  if (!it->is_boolean()) wrong_type(key, where, "a boolean", *it);
  return it->get<bool>();
}

std::vector<std::uint64_t> opt_ids(const json& obj, const char* key, const std::string& where,
                                   bool hex) {
  std::vector<std::uint64_t> out;
  auto it = obj.find(key);
  if (it == obj.end()) return out;
  if (!it->is_array()) wrong_type(key, where, "an array", *it);
  for (const json& v : *it) {
    if (hex) {
      out.push_back(parse_hex(v, key, where));
    } else {
      if (!v.is_number_unsigned()) wrong_type(key, where, "an array of goroutine ids", v);
      out.push_back(v.get<std::uint64_t>());
    }
  }
  return out;
}

// An object of `objects`, or of `more_objects` (`apart`), where an unknown kind is a later
// writer's and skipped (nullopt) rather than an error.
std::optional<wait_object> read_object(const json& o, const std::string& in, const symbol_tables& t,
                                       bool apart) {
  if (!o.is_object()) throw line_error(in + ": objects must be objects, got " + type_name(o));
  wait_object out;
  out.id = parse_hex(field(o, "id", in + ", an object"), "id", in + ", an object");
  const std::string where = in + ", object " + o["id"].get<std::string>();
  const std::string& kind = get_string(o, "kind", where);
  auto k = parse_wait_object_kind(kind);
  if (!k && apart) return std::nullopt;
  if (!k) throw line_error(where + ": unknown object kind " + in_quotes(kind));
  if (is_extension_kind(*k) != apart) {
    throw line_error(where + ": an object of kind " + in_quotes(kind) + " belongs in " +
                     (apart ? "objects" : "more_objects"));
  }
  out.kind = *k;
  constexpr auto u32 = std::numeric_limits<std::uint32_t>::max();
  out.capacity = opt_uint(o, "capacity", where);
  out.count = opt_uint(o, "count", where);
  out.closed = opt_bool(o, "closed", where);
  out.senders = static_cast<std::uint32_t>(opt_uint(o, "senders", where, u32));
  out.receivers = static_cast<std::uint32_t>(opt_uint(o, "receivers", where, u32));
  out.handles = static_cast<std::uint32_t>(opt_uint(o, "handles", where, u32));
  out.held_by = opt_ids(o, "held_by", where, false);
  out.locked = opt_bool(o, "locked", where);
  out.owner = opt_uint(o, "owner", where);
  out.queue = opt_ids(o, "queue", where, false);
  if (o.contains("locked_at")) {
    const std::uint64_t frame = get_uint(o, "locked_at", where);
    if (frame >= t.frames.size()) {
      throw line_error(where + ": refers to undefined frame " + std::to_string(frame));
    }
    out.locked_at = static_cast<std::uint32_t>(frame + 1);
  }
  out.counter = o.contains("counter") ? get_int(o, "counter", where) : 0;
  out.waiters = static_cast<std::uint32_t>(opt_uint(o, "waiters", where, u32));
  out.set = opt_bool(o, "set", where);
  out.cases = opt_ids(o, "cases", where, true);
  out.send_cases = opt_ids(o, "send_cases", where, true);
  std::sort(out.send_cases.begin(), out.send_cases.end());
  out.nil_cases = static_cast<std::uint32_t>(opt_uint(o, "nil_cases", where, u32));
  if (auto it = o.find("timer"); it != o.end()) out.timer = parse_hex(*it, "timer", where);
  out.when_ns = o.contains("when_ns") ? get_int(o, "when_ns", where) : 0;
  out.period_ns = o.contains("period_ns") ? get_int(o, "period_ns", where) : 0;
  if (o.contains("fd")) {
    const std::int64_t fd = get_int(o, "fd", where);
    if (fd < std::numeric_limits<std::int32_t>::min() ||
        fd > std::numeric_limits<std::int32_t>::max()) {
      throw line_error(where + ": field \"fd\" out of range: " + std::to_string(fd));
    }
    out.fd = static_cast<std::int32_t>(fd);
  }
  if (o.contains("direction")) {
    const std::string& d = get_string(o, "direction", where);
    if (d != "read" && d != "write") {
      throw line_error(where + ": field \"direction\" must be \"read\" or \"write\", got " +
                       in_quotes(d));
    }
    out.write = d == "write";
  }
  return out;
}

// A site or frame definition; ids are dense and in order, so the table index is the id.
void read_location(const json& obj, std::string_view type, std::vector<code_location>& table) {
  std::string where = std::string(type) + " line";
  auto id = get_uint(obj, "id", where);
  if (id != table.size()) {
    throw line_error(std::string(type) + " id " + std::to_string(id) + " out of order: expected " +
                     std::to_string(table.size()));
  }
  where = std::string(type) + " " + std::to_string(id);
  code_location l;
  l.function = get_string(obj, "function", where);
  l.file = get_string(obj, "file", where);
  l.line = static_cast<std::uint32_t>(
      get_uint(obj, "line", where, std::numeric_limits<std::uint32_t>::max()));
  l.pc = parse_pc(obj, where);
  table.push_back(std::move(l));
}

void read_stack(const json& obj, symbol_tables& t) {
  auto id = get_uint(obj, "id", "stack line");
  if (id != t.stacks.size()) {
    throw line_error("stack id " + std::to_string(id) + " out of order: expected " +
                     std::to_string(t.stacks.size()));
  }
  const std::string where = "stack " + std::to_string(id);
  const json& frames = field(obj, "frames", where);
  if (!frames.is_array()) wrong_type("frames", where, "an array", frames);
  std::vector<std::uint32_t> ids;
  ids.reserve(frames.size());
  for (const json& f : frames) {
    if (!f.is_number_unsigned()) {
      throw line_error(where + ": frame ids must be non-negative integers, got " + type_name(f));
    }
    auto fid = f.get<std::uint64_t>();
    if (fid >= t.frames.size()) {
      throw line_error(where + ": refers to undefined frame " + std::to_string(fid));
    }
    ids.push_back(static_cast<std::uint32_t>(fid));
  }
  t.stacks.push_back(std::move(ids));
}

label_ptr read_labels(const json& v, const std::string& where, label_ptr& previous) {
  if (!v.is_object()) wrong_type("labels", where, "an object", v);
  label_set set;
  set.reserve(v.size());
  for (const auto& [k, val] : v.items()) {  // nlohmann objects iterate sorted by key
    if (!val.is_string()) {
      throw line_error(where + ": label " + in_quotes(k) + " must be a string, got " +
                       type_name(val));
    }
    set.emplace_back(k, val.get<std::string>());
  }
  // Goroutines of one sample often share a label set: share its storage too.
  if (previous && *previous == set) return previous;
  previous = std::make_shared<const label_set>(std::move(set));
  return previous;
}

goroutine_sample read_goroutine(const json& g, const symbol_tables& t, const std::string& in,
                                label_ptr& previous_labels) {
  if (!g.is_object()) throw line_error(in + ": goroutines must be objects, got " + type_name(g));
  goroutine_sample out;
  out.id = get_uint(g, "id", in + ", a goroutine");
  const std::string where = in + ", goroutine " + std::to_string(out.id);
  out.parent_id = get_uint(g, "parent", where);
  auto site = get_uint(g, "site", where);
  if (site >= t.sites.size()) {
    throw line_error(where + ": refers to undefined site " + std::to_string(site));
  }
  out.site = static_cast<std::uint32_t>(site);
  auto stack = get_uint(g, "stack", where);
  if (stack >= t.stacks.size()) {
    throw line_error(where + ": refers to undefined stack " + std::to_string(stack));
  }
  out.stack = static_cast<std::uint32_t>(stack);
  const std::string& state = get_string(g, "state", where);
  auto st = parse_goroutine_state(state);
  if (!st) throw line_error(where + ": unknown state " + in_quotes(state));
  out.state = *st;
  if (auto it = g.find("wait"); it != g.end()) {
    if (!it->is_string()) wrong_type("wait", where, "a string", *it);
    auto r = parse_wait_reason(it->get_ref<const std::string&>());
    if (!r) throw line_error(where + ": unknown wait reason " + in_quotes(it->get<std::string>()));
    out.reason = *r;
  }
  out.wait_ns = get_int(g, "wait_ns", where);
  out.created_ns = get_int(g, "created_ns", where);
  if (auto it = g.find("labels"); it != g.end())
    out.labels = read_labels(*it, where, previous_labels);
  out.resumes = get_uint(g, "resumes", where);
  out.running_ns = get_int(g, "running_ns", where);
  out.runnable_ns = get_int(g, "runnable_ns", where);
  if (auto it = g.find("blocked_on"); it != g.end()) {
    out.blocked_on = parse_hex(*it, "blocked_on", where);
  }
  return out;
}

// Goroutines in id order, ids unique: what every reader of a sample relies on.
void sort_and_check_ids(sample& out, const std::string& where) {
  auto by_id = [](const goroutine_sample& a, const goroutine_sample& b) { return a.id < b.id; };
  if (!std::is_sorted(out.goroutines.begin(), out.goroutines.end(), by_id)) {
    std::sort(out.goroutines.begin(), out.goroutines.end(), by_id);
  }
  auto dup = std::adjacent_find(out.goroutines.begin(), out.goroutines.end(),
                                [](const auto& a, const auto& b) { return a.id == b.id; });
  if (dup != out.goroutines.end()) {
    throw line_error(where + ": duplicate goroutine id " + std::to_string(dup->id));
  }
}

void read_sample(const json& obj, const symbol_tables& t, sample& out) {
  out.seq = get_uint(obj, "seq", "sample line");
  const std::string where = "sample " + std::to_string(out.seq);
  out.time_ns = get_int(obj, "t_ns", where);
  out.duration_ns = get_int(obj, "snapshot_ns", where);
  out.pause_ns = get_int(obj, "pause_ns", where);
  const json& gs = field(obj, "goroutines", where);
  if (!gs.is_array()) wrong_type("goroutines", where, "an array", gs);
  out.goroutines.clear();
  out.goroutines.reserve(gs.size());
  label_ptr previous_labels;
  for (const json& g : gs) out.goroutines.push_back(read_goroutine(g, t, where, previous_labels));
  sort_and_check_ids(out, where);
  out.objects.clear();
  for (const bool apart : {false, true}) {
    const char* key = apart ? "more_objects" : "objects";
    auto it = obj.find(key);
    if (it == obj.end()) continue;
    if (!it->is_array()) wrong_type(key, where, "an array", *it);
    for (const json& o : *it) {
      if (auto read = read_object(o, where, t, apart)) out.objects.push_back(std::move(*read));
    }
  }
  if (!out.objects.empty()) {
    auto by_id = [](const wait_object& a, const wait_object& b) { return a.id < b.id; };
    std::sort(out.objects.begin(), out.objects.end(), by_id);
    auto same = std::adjacent_find(out.objects.begin(), out.objects.end(),
                                   [](const auto& a, const auto& b) { return a.id == b.id; });
    if (same != out.objects.end()) throw line_error(where + ": duplicate object id");
  }
}

recording_end read_end(const json& obj) {
  const std::string where = "end line";
  recording_end e;
  e.samples = get_uint(obj, "samples", where);
  const std::string& reason = get_string(obj, "reason", where);
  auto r = parse_end_reason(reason);
  if (!r) throw line_error(where + ": unknown reason " + in_quotes(reason));
  e.reason = *r;
  e.exit_status = get_optional_int(obj, "exit_status", where);
  e.signal = get_optional_int(obj, "signal", where);
  return e;
}

recording_header parse_header(const json& obj) {
  const std::string where = "header";
  recording_header h;
  const std::string& format = get_string(obj, "format", where);
  if (format != recording_format::name) {
    throw line_error("not a gprof-id recording: format is " + in_quotes(format) + ", expected " +
                     in_quotes(recording_format::name));
  }
  auto version = get_uint(obj, "version", where, std::numeric_limits<int>::max());
  if (version > static_cast<std::uint64_t>(recording_format::version)) {
    throw line_error("recording format version " + std::to_string(version) +
                     " is newer than this gprof-id supports (" +
                     std::to_string(recording_format::version) + "); use a newer gprof-id");
  }
  if (version == 0) throw line_error("header: invalid recording format version 0");
  h.version = static_cast<int>(version);
  h.workload = get_string(obj, "workload", where);
  const json& cmd = field(obj, "command", where);
  if (!cmd.is_array()) wrong_type("command", where, "an array of strings", cmd);
  for (const json& a : cmd) {
    if (!a.is_string()) wrong_type("command", where, "an array of strings", a);
    h.command_line.push_back(a.get<std::string>());
  }
  h.pid = get_int(obj, "pid", where);
  h.interval_ns = get_int(obj, "interval_ns", where);
  h.start_wall = get_string(obj, "start", where);
  h.start_unix_ns = get_int(obj, "start_unix_ns", where);
  h.start_monotonic_ns = get_int(obj, "start_monotonic_ns", where);
  h.workers = get_int(obj, "workers", where);
  h.runtime_version = get_string(obj, "runtime", where);
  return h;
}

json parse_line(const std::string& line) {
  try {
    json v = json::parse(line);
    if (!v.is_object())
      throw line_error(std::string("expected a JSON object, got ") + type_name(v));
    return v;
  } catch (const json::parse_error& e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 7: syntax error ..."
    std::string msg = e.what();
    if (auto at = msg.find("column "); at != std::string::npos) msg = msg.substr(at);
    // nlohmann's lexer takes a NUL outside a string for the end of its input: say what it is.
    if (const auto nul = line.find('\0');
        nul != std::string::npos && msg.find("unexpected end of input") != std::string::npos) {
      throw line_error("NUL byte at column " + std::to_string(nul + 1) +
                       " (recordings are UTF-8 text)");
    }
    if (msg.find("ill-formed UTF-8") != std::string::npos) {
      // Not echoed: the context nlohmann quotes holds the very bytes that are not text.
      throw line_error("invalid UTF-8 at " + msg.substr(0, msg.find(':')) +
                       " (recordings are UTF-8 text)");
    }
    throw line_error("malformed JSON at " + sanitize_utf8(msg));
  } catch (const json::out_of_range& e) {
    // "[json.exception.out_of_range.406] number overflow parsing '1e400'": the token may be
    // long, so the message is cut.
    std::string msg = e.what();
    if (auto at = msg.find("] "); at != std::string::npos) msg = msg.substr(at + 2);
    if (msg.size() > 120) msg = msg.substr(0, 120) + "...";
    throw line_error("malformed JSON: " + sanitize_utf8(msg));
  }
}

std::string line_type(const json& obj) {
  auto it = obj.find("type");
  if (it == obj.end()) throw line_error("missing required field \"type\"");
  if (!it->is_string()) wrong_type("type", "line", "a string", *it);
  return it->get<std::string>();
}

// "gzip", "zstd", "xz" or "bzip2" when `first_line` starts with that format's magic number.
const char* compressed_kind(std::string_view first_line) {
  if (first_line.starts_with("\x1f\x8b")) return "gzip";
  if (first_line.starts_with("\x28\xb5\x2f\xfd")) return "zstd";
  if (first_line.starts_with("\xfd"
                             "7zXZ"))
    return "xz";
  if (first_line.starts_with("BZh")) return "bzip2";
  return nullptr;
}

}  // namespace

recording_error::recording_error(const std::string& file, std::uint64_t line,
                                 const std::string& message)
    : std::runtime_error(line ? file + ":" + std::to_string(line) + ": " + message
                              : file + ": " + message),
      file_(file),
      line_(line),
      message_(message) {}

recording_reader::recording_reader(std::istream& in, std::string name)
    : in_(&in), name_(std::move(name)) {
  open();
}

recording_reader::recording_reader(std::unique_ptr<std::istream> owned, std::string name)
    : owned_(std::move(owned)), in_(owned_.get()), name_(std::move(name)) {
  open();
}

void recording_reader::open() {
  try {
    // A v1 recording starts with '{' or whitespace, a v2 one with a byte no text starts with.
    if (in_->peek() == recording_format_v2::first_byte) {
      v2_ = std::make_unique<v2_reader>(*in_, name_);
    } else {
      // std::getline swallows what stops it (a bad_alloc growing a 1 GB line, a read error)
      // into badbit unless badbit throws: then it rethrows that exception, and its position is
      // reported (rethrow_with_position) instead of an unexplained end of input.
      in_->exceptions(in_->exceptions() | std::ios::badbit);
      v1_labels_ = std::make_unique<jsonl_fast::label_cache>();
      read_header();
    }
  } catch (...) {
    rethrow_with_position();
  }
}

void recording_reader::rethrow_with_position() {
  try {
    throw;
  } catch (const recording_error&) {
    throw;
  } catch (const recording_out_of_memory&) {
    throw;
  } catch (const std::bad_alloc&) {
    // A failed getline set badbit before rethrowing: the line it was reading is the next one.
    const std::uint64_t line = line_no_ + (in_->bad() ? 1 : 0);
    if (v2_) {
      throw recording_out_of_memory(name_ + ": offset " + std::to_string(v2_->offset()) +
                                    ": out of memory reading this block");
    }
    throw recording_out_of_memory(name_ + ":" + std::to_string(std::max<std::uint64_t>(line, 1)) +
                                  ": out of memory reading this line (" +
                                  std::to_string(line_.size()) + " bytes)");
  } catch (const std::system_error& e) {  // std::ios_base::failure: the file could not be read
    throw recording_error(name_, line_no_ + 1, "read error: " + e.code().message());
  }
}

const recording_header& recording_reader::header() const noexcept {
  return v2_ ? v2_->header() : header_;
}
const symbol_tables& recording_reader::tables() const noexcept {
  return v2_ ? v2_->tables() : tables_;
}
const std::optional<recording_end>& recording_reader::end() const noexcept {
  return v2_ ? v2_->end() : end_;
}
const std::vector<std::string>& recording_reader::warnings() const noexcept {
  return v2_ ? v2_->warnings() : warnings_;
}

void recording_reader::read_header() {
  // Blank lines are skipped; the first line with content must be a complete header.
  while (std::getline(*in_, line_)) {
    ++line_no_;
    if (line_.find_first_not_of(" \t\r") != std::string::npos) break;
  }
  if (const char* kind = compressed_kind(line_)) {
    throw recording_error(
        name_, 0,
        std::string("a ") + kind + "-compressed file, not a recording: decompress it first (e.g. " +
            (std::string_view(kind) == "gzip" ? "gunzip -k" : "unzstd/unxz") + " FILE)");
  }
  if (line_no_ == 0 || line_.find_first_not_of(" \t\r") == std::string::npos) {
    throw recording_error(name_, std::max<std::uint64_t>(line_no_, 1),
                          "empty recording: expected a header line");
  }
  try {
    json obj = parse_line(line_);
    std::string type = line_type(obj);
    if (type != recording_format::line::header) {
      throw line_error("expected a header line first, got a " + in_quotes(type) + " line");
    }
    header_ = parse_header(obj);
  } catch (const line_error& e) {
    throw recording_error(name_, line_no_, e.what());
  }
}

namespace {
std::unique_ptr<std::istream> open_file(const std::string& path) {
  // An ifstream opens a directory and then reads nothing: it would pass for an empty recording.
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    throw recording_error(path, 0, "is a directory");
  }
  auto f = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!*f) throw recording_error(path, 0, std::string("cannot open: ") + std::strerror(errno));
  return f;
}
}  // namespace

recording_reader::recording_reader(const std::string& path)
    : recording_reader(open_file(path), path) {}

recording_reader::~recording_reader() = default;

bool recording_reader::next(sample& out) {
  try {
    return v2_ ? v2_->next(out) : next_line_sample(out);
  } catch (...) {
    rethrow_with_position();
  }
}

void recording_reader::set_piece_size(std::size_t n) noexcept {
  if (v2_) v2_->set_piece_size(n);
}

bool recording_reader::next_changes(sample_changes& out) {
  try {
    if (v2_) return v2_->next_changes(out);
    if (!next_line_sample(v1_next_)) return false;
  } catch (...) {
    rethrow_with_position();
  }
  static const std::vector<goroutine_sample> none;
  out.seq = v1_next_.seq;
  out.time_ns = v1_next_.time_ns;
  out.duration_ns = v1_next_.duration_ns;
  out.pause_ns = v1_next_.pause_ns;
  out.alive = v1_next_.goroutines.size();
  out.objects = v1_next_.objects.size();
  out.first = !v1_have_last_;
  changes_between(v1_have_last_ ? v1_last_.goroutines : none, v1_last_.time_ns, v1_next_.goroutines,
                  v1_next_.time_ns, out);
  std::swap(v1_last_, v1_next_);
  v1_have_last_ = true;
  return true;
}

std::optional<recording_restart_point> recording_reader::restart_point() const noexcept {
  if (v2_) return v2_->restart_point();
  // Every v1 sample line is whole: any can be read again by itself.
  if (v1_sample_at_.sample == 0) return std::nullopt;
  return v1_sample_at_;
}

void recording_reader::restart(const recording_restart_point& p) {
  try {
    if (v2_) return v2_->restart(p);
    if (p.offset >= v1_read_until_ || p.block == 0 || p.sample == 0) {
      throw recording_error(name_, 0,
                            "offset " + std::to_string(p.offset) +
                                ": not a sample line this reader has read (cannot restart there)");
    }
    in_->clear();
    in_->seekg(static_cast<std::streamoff>(p.offset));
    if (!*in_) {
      throw recording_error(
          name_, 0,
          "cannot seek back to line " + std::to_string(p.block) + " (the input is not a file)");
    }
    line_no_ = p.block - 1;
    samples_read_ = p.sample - 1;
    v1_sample_at_ = {};
    v1_have_last_ = false;
    end_.reset();
    done_ = false;
  } catch (...) {
    rethrow_with_position();
  }
}

bool recording_reader::skip_to(std::uint64_t index) {
  try {
    if (v2_) return v2_->skip_to(index);
    while (samples_read_ <= index) {
      if (!next_line_sample(v1_next_)) return false;
      std::swap(v1_last_, v1_next_);  // current() and next_changes() go on from it
      v1_have_last_ = true;
    }
    return true;
  } catch (...) {
    rethrow_with_position();
  }
}

std::uint64_t recording_reader::skip_rest() {
  try {
    if (v2_) return v2_->pass_rest();
    std::uint64_t n = 0;
    while (next_line_sample(v1_next_)) ++n;
    v1_have_last_ = false;
    return n;
  } catch (...) {
    rethrow_with_position();
  }
}

std::uint64_t recording_reader::samples_read() const noexcept {
  return v2_ ? v2_->samples_read() : samples_read_;
}

void recording_reader::current(sample& out) const {
  if (v2_) {
    v2_->current(out);
  } else {
    out = v1_last_;
  }
}

bool recording_reader::next_line_sample(sample& out) {
  while (!done_) {
    const auto at = static_cast<std::uint64_t>(static_cast<std::streamoff>(in_->tellg()));
    if (!std::getline(*in_, line_)) break;
    ++line_no_;
    const bool complete = !in_->eof();  // getline stopped at a newline, not at end of input
    // Read before a restart(): its table entries are in the tables, its warnings were given.
    const bool again = at < v1_read_until_;
    v1_read_until_ = std::max(v1_read_until_, at + line_.size() + (complete ? 1 : 0));
    v1_line_at_ = at;
    if (line_.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      // Samples are nearly all of a recording: parsed without a DOM when they are plain. Any
      // doubt and the DOM path below reads the line, with its precise errors.
      if (!end_ && v1_fast_ && parse_sample_line_fast(line_, tables_, out, *v1_labels_)) {
        sort_and_check_ids(out, "sample " + std::to_string(out.seq));
        check_sequence(out.seq, again);
        return true;
      }
      json obj;
      try {
        obj = parse_line(line_);
      } catch (const line_error&) {
        if (complete) throw;
        if (!v1_finished_) {
          warnings_.push_back(name_ + ":" + std::to_string(line_no_) +
                              ": incomplete last line ignored (the recording was cut short)");
        }
        break;
      }
      if (end_) throw line_error("line after the end line");
      std::string type = line_type(obj);
      if (type == recording_format::line::sample) {
        read_sample(obj, tables_, out);
        check_sequence(out.seq, again);
        return true;
      } else if (again &&
                 (type == recording_format::line::site || type == recording_format::line::frame ||
                  type == recording_format::line::stack)) {
        // Defined already.
      } else if (type == recording_format::line::site) {
        read_location(obj, type, tables_.sites);
      } else if (type == recording_format::line::frame) {
        read_location(obj, type, tables_.frames);
      } else if (type == recording_format::line::stack) {
        read_stack(obj, tables_);
      } else if (type == recording_format::line::end) {
        end_ = read_end(obj);
        end_line_ = line_no_;
      } else if (type == recording_format::line::header) {
        throw line_error("a second header line");
      } else {
        throw line_error("unknown line type " + in_quotes(type));
      }
    } catch (const line_error& e) {
      throw recording_error(name_, line_no_, e.what());
    }
  }
  if (!done_ && in_->bad()) {
    throw recording_error(name_, line_no_, std::string("read error: ") + std::strerror(errno));
  }
  if (v1_finished_) {  // restarted: the end's warnings were given when it was first reached
    done_ = true;
    return false;
  }
  v1_finished_ = true;
  if (!done_ && !end_) {
    warnings_.push_back(name_ + ":" + std::to_string(line_no_) +
                        ": no end line (the recording was cut short)");
  }
  if (!done_ && end_ && end_->samples != samples_read_) {
    warnings_.push_back(name_ + ":" + std::to_string(end_line_) + ": the end line says " +
                        std::to_string(end_->samples) + " samples, the file has " +
                        std::to_string(samples_read_) + " (samples were lost or added)");
  }
  if (!done_ && end_) {
    // Complete, but of a program that failed: its last moments are missing, and the cause
    // matters to whoever reads a diff of it.
    const std::string at = name_ + ":" + std::to_string(line_no_) + ": ";
    if (auto w = ended_badly(*end_)) warnings_.push_back(at + *w);
  }
  done_ = true;
  return false;
}

void recording_reader::check_sequence(std::uint64_t seq, bool again) {
  ++samples_read_;
  v1_sample_at_ = {v1_line_at_, line_no_, samples_read_};
  if (!again) sequence_.check(seq, line_no_, name_, warnings_);
}

recording read_recording(const std::string& path) {
  recording_reader r(path);
  recording rec;
  rec.header = r.header();
  sample s;
  while (r.next(s)) rec.samples.push_back(std::move(s));
  rec.tables = r.tables();
  rec.end = r.end();
  rec.warnings = r.warnings();
  return rec;
}

}  // namespace gprofid
