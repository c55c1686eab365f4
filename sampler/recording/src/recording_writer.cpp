#include "gprofid/recording/recording_writer.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <ctime>
#include <stdexcept>
#include <system_error>

#include "gprofid/recording/json_text.hpp"

namespace gprofid {
namespace {

// Writing to a closed pipe must become EPIPE, not a process-killing SIGPIPE. Blocking it in this
// thread only (no global handler) and swallowing the one our write raised keeps that local.
class sigpipe_guard {
 public:
  sigpipe_guard() {
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_only, &old_);
  }
  ~sigpipe_guard() {
    if (epipe && !was_pending_) {
      sigset_t pipe_only;
      sigemptyset(&pipe_only);
      sigaddset(&pipe_only, SIGPIPE);
      timespec zero{};
      while (sigtimedwait(&pipe_only, nullptr, &zero) == -1 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  sigpipe_guard(const sigpipe_guard&) = delete;
  sigpipe_guard& operator=(const sigpipe_guard&) = delete;
  bool epipe = false;

 private:
  sigset_t old_;
  bool was_pending_ = false;
};

[[noreturn]] void throw_write_error(int err, const std::string& name) {
  throw std::system_error(err, std::generic_category(), "writing " + name);
}

void append_location(std::string& out, std::string_view type, std::uint32_t id,
                     const code_location& l) {
  out += "{\"type\":\"";
  out += type;
  out += "\",\"id\":";
  append_json_int(out, id);
  out += ",\"function\":";
  append_json_string(out, l.function);
  out += ",\"file\":";
  append_json_string(out, l.file);
  out += ",\"line\":";
  append_json_int(out, l.line);
  // Hex text: jq and JavaScript read integers as doubles, which cannot hold a 64-bit address.
  out += ",\"pc\":\"0x";
  char buf[20];
  auto r = std::to_chars(buf, buf + sizeof buf, l.pc, 16);
  out.append(buf, r.ptr);
  out += "\"}\n";
}

// Object ids are addresses: hex text, like pc.
void append_object_id(std::string& out, std::uint64_t id) {
  out += "\"0x";
  char buf[20];
  auto r = std::to_chars(buf, buf + sizeof buf, id, 16);
  out.append(buf, r.ptr);
  out += '"';
}

void append_id_list(std::string& out, const std::vector<std::uint64_t>& ids, bool hex) {
  out += '[';
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ',';
    if (hex) {
      append_object_id(out, ids[i]);
    } else {
      append_json_int(out, ids[i]);
    }
  }
  out += ']';
}

void append_bool_field(std::string& out, std::string_view key, bool v) {
  out += ",\"";
  out += key;
  out += v ? "\":true" : "\":false";
}

template <class Int>
void append_int_field(std::string& out, std::string_view key, Int v) {
  out += ",\"";
  out += key;
  out += "\":";
  append_json_int(out, v);
}

// Only the fields of its kind (docs/recording-format.md).
void append_object(std::string& out, const wait_object& o) {
  out += "{\"id\":";
  append_object_id(out, o.id);
  out += ",\"kind\":\"";
  out += to_string(o.kind);
  out += '"';
  switch (o.kind) {
    case wait_object_kind::channel:
      append_int_field(out, "capacity", o.capacity);
      append_int_field(out, "count", o.count);
      append_bool_field(out, "closed", o.closed);
      append_int_field(out, "senders", o.senders);
      append_int_field(out, "receivers", o.receivers);
      append_int_field(out, "handles", o.handles);
      out += ",\"held_by\":";
      append_id_list(out, o.held_by, false);
      if (o.timer != 0) {
        out += ",\"timer\":";
        append_object_id(out, o.timer);
      }
      break;
    case wait_object_kind::mutex:
      append_bool_field(out, "locked", o.locked);
      append_int_field(out, "owner", o.owner);
      out += ",\"queue\":";
      append_id_list(out, o.queue, false);
      if (o.locked_at != 0) append_int_field(out, "locked_at", o.locked_at - 1);
      break;
    case wait_object_kind::wait_group:
      append_int_field(out, "counter", o.counter);
      append_int_field(out, "waiters", o.waiters);
      break;
    case wait_object_kind::event:
      append_bool_field(out, "set", o.set);
      break;
    case wait_object_kind::select:
      out += ",\"cases\":";
      append_id_list(out, o.cases, true);
      out += ",\"send_cases\":";
      append_id_list(out, o.send_cases, true);
      append_int_field(out, "nil_cases", o.nil_cases);
      break;
    case wait_object_kind::timer:
      append_int_field(out, "when_ns", o.when_ns);
      if (o.period_ns != 0) append_int_field(out, "period_ns", o.period_ns);
      break;
    case wait_object_kind::fd:
      append_int_field(out, "fd", o.fd);
      out += o.write ? ",\"direction\":\"write\"" : ",\"direction\":\"read\"";
      break;
    case wait_object_kind::none:
      break;
  }
  out += '}';
}

}  // namespace

std::optional<recording_encoding> parse_recording_encoding(std::string_view s) noexcept {
  if (s == "jsonl") return recording_encoding::jsonl;
  if (s == "v2") return recording_encoding::v2;
  return std::nullopt;
}

std::string_view to_string(recording_encoding e) noexcept {
  return e == recording_encoding::v2 ? "v2" : "jsonl";
}

namespace {
std::unique_ptr<v2_encoder> encoder_for(recording_encoding e) {
  return e == recording_encoding::v2 ? std::make_unique<v2_encoder>() : nullptr;
}
}  // namespace

recording_writer::recording_writer(int fd, std::string name, recording_encoding encoding)
    : kind_(sink_kind::fd),
      fd_(fd),
      name_(name.empty() ? "file descriptor " + std::to_string(fd) : std::move(name)),
      v2_(encoder_for(encoding)) {
  struct stat st {};
  if (::fstat(fd, &st) == 0) identity_ = {st.st_dev, st.st_ino};
}

recording_writer::recording_writer(std::FILE* file, std::string name, recording_encoding encoding)
    : kind_(sink_kind::file),
      file_(file),
      name_(name.empty() ? "recording" : std::move(name)),
      v2_(encoder_for(encoding)) {}

recording_writer::recording_writer(std::ostream& out, std::string name, recording_encoding encoding)
    : kind_(sink_kind::stream), stream_(&out), name_(std::move(name)), v2_(encoder_for(encoding)) {}

recording_writer recording_writer::create(const std::string& path, recording_encoding encoding) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "creating " + path);
  recording_writer w(fd, path, encoding);
  w.owns_fd_ = true;
  return w;
}

recording_writer::recording_writer(recording_writer&& o) noexcept
    : kind_(o.kind_),
      fd_(o.fd_),
      identity_(o.identity_),
      owns_fd_(std::exchange(o.owns_fd_, false)),
      file_(o.file_),
      stream_(o.stream_),
      name_(std::move(o.name_)),
      buf_(std::move(o.buf_)),
      written_(o.written_),
      bytes_(o.bytes_),
      v2_(std::move(o.v2_)) {}

recording_writer::~recording_writer() {
  if (owns_fd_) ::close(fd_);
}

void recording_writer::flush_line_buffer() {
  sigpipe_guard guard;
  const char* p = buf_.data();
  std::size_t left = buf_.size();
  switch (kind_) {
    case sink_kind::fd:
      // Never write to a number that now names something else: a program that closed the
      // descriptor and opened a file would get our lines in its file.
      if (identity_) {
        struct stat st {};
        if (::fstat(fd_, &st) != 0 || st.st_dev != identity_->first ||
            st.st_ino != identity_->second) {
          throw std::system_error(
              EBADF, std::generic_category(),
              "writing " + name_ + ": the descriptor was closed or now names another file");
        }
      }
      while (left > 0) {
        ssize_t n = ::write(fd_, p, left);
        if (n < 0) {
          if (errno == EINTR) continue;
          int err = errno;
          guard.epipe = err == EPIPE;
          throw_write_error(err, name_);
        }
        p += n;
        left -= static_cast<std::size_t>(n);
      }
      break;
    case sink_kind::file:
      errno = 0;
      if (std::fwrite(p, 1, left, file_) != left || std::fflush(file_) != 0) {
        int err = errno ? errno : EIO;
        guard.epipe = err == EPIPE;
        std::clearerr(file_);
        throw_write_error(err, name_);
      }
      break;
    case sink_kind::stream:
      errno = 0;
      stream_->write(p, static_cast<std::streamsize>(left));
      stream_->flush();
      if (!*stream_) {
        int err = errno ? errno : EIO;
        guard.epipe = err == EPIPE;
        throw_write_error(err, name_);
      }
      break;
  }
  bytes_ += buf_.size();
  buf_.clear();
}

void recording_writer::write_header(const recording_header& h) {
  buf_.clear();
  if (v2_) {
    v2_->append_header(buf_, h);
    flush_line_buffer();
    return;
  }
  buf_ += "{\"type\":\"header\",\"format\":";
  append_json_string(buf_, recording_format::name);
  buf_ += ",\"version\":";
  append_json_int(buf_, recording_format::version);  // what this writes, whatever was read
  buf_ += ",\"workload\":";
  append_json_string(buf_, h.workload);
  buf_ += ",\"command\":[";
  for (std::size_t i = 0; i < h.command_line.size(); ++i) {
    if (i) buf_ += ',';
    append_json_string(buf_, h.command_line[i]);
  }
  buf_ += "],\"pid\":";
  append_json_int(buf_, h.pid);
  buf_ += ",\"interval_ns\":";
  append_json_int(buf_, h.interval_ns);
  buf_ += ",\"start\":";
  append_json_string(buf_, h.start_wall);
  buf_ += ",\"start_unix_ns\":";
  append_json_int(buf_, h.start_unix_ns);
  buf_ += ",\"start_monotonic_ns\":";
  append_json_int(buf_, h.start_monotonic_ns);
  buf_ += ",\"workers\":";
  append_json_int(buf_, h.workers);
  buf_ += ",\"runtime\":";
  append_json_string(buf_, h.runtime_version);
  buf_ += "}\n";
  flush_line_buffer();
}

void recording_writer::append_definitions(const symbol_tables& t, table_marks from) {
  for (auto i = from.sites; i < t.sites.size(); ++i) {
    append_location(buf_, recording_format::line::site, i, t.sites[i]);
  }
  for (auto i = from.frames; i < t.frames.size(); ++i) {
    append_location(buf_, recording_format::line::frame, i, t.frames[i]);
  }
  for (auto i = from.stacks; i < t.stacks.size(); ++i) {
    buf_ += "{\"type\":\"stack\",\"id\":";
    append_json_int(buf_, i);
    buf_ += ",\"frames\":[";
    bool first = true;
    for (auto f : t.stacks[i]) {
      if (!first) buf_ += ',';
      first = false;
      append_json_int(buf_, f);
    }
    buf_ += "]}\n";
  }
}

void recording_writer::append_sample(const sample& s) {
  buf_ += "{\"type\":\"sample\",\"seq\":";
  append_json_int(buf_, s.seq);
  buf_ += ",\"t_ns\":";
  append_json_int(buf_, s.time_ns);
  buf_ += ",\"snapshot_ns\":";
  append_json_int(buf_, s.duration_ns);
  buf_ += ",\"pause_ns\":";
  append_json_int(buf_, s.pause_ns);
  buf_ += ",\"goroutines\":[";
  bool first = true;
  for (const auto& g : s.goroutines) {
    buf_ += first ? "{\"id\":" : ",{\"id\":";
    first = false;
    append_json_int(buf_, g.id);
    buf_ += ",\"parent\":";
    append_json_int(buf_, g.parent_id);
    buf_ += ",\"site\":";
    append_json_int(buf_, g.site);
    buf_ += ",\"state\":\"";
    buf_ += to_string(g.state);  // fixed ASCII vocabulary
    buf_ += '"';
    if (g.reason != wait_reason::none) {
      buf_ += ",\"wait\":\"";
      buf_ += to_string(g.reason);
      buf_ += '"';
    }
    buf_ += ",\"wait_ns\":";
    append_json_int(buf_, g.wait_ns);
    buf_ += ",\"created_ns\":";
    append_json_int(buf_, g.created_ns);
    buf_ += ",\"stack\":";
    append_json_int(buf_, g.stack);
    if (g.labels && !g.labels->empty()) {
      buf_ += ",\"labels\":{";
      bool first_label = true;
      for (const auto& [k, v] : *g.labels) {
        if (!first_label) buf_ += ',';
        first_label = false;
        append_json_string(buf_, k);
        buf_ += ':';
        append_json_string(buf_, v);
      }
      buf_ += '}';
    }
    buf_ += ",\"resumes\":";
    append_json_int(buf_, g.resumes);
    buf_ += ",\"running_ns\":";
    append_json_int(buf_, g.running_ns);
    buf_ += ",\"runnable_ns\":";
    append_json_int(buf_, g.runnable_ns);
    if (g.blocked_on != 0) {
      buf_ += ",\"blocked_on\":";
      append_object_id(buf_, g.blocked_on);
    }
    buf_ += '}';
  }
  buf_ += ']';
  // Kinds the first readers of the graph do not know go apart, where they skip them.
  for (const bool apart : {false, true}) {
    bool first = true;
    for (const wait_object& o : s.objects) {
      if (is_extension_kind(o.kind) != apart) continue;
      buf_ += first ? (apart ? ",\"more_objects\":[" : ",\"objects\":[") : ",";
      first = false;
      append_object(buf_, o);
    }
    if (!first) buf_ += ']';
  }
  buf_ += "}\n";
}

void recording_writer::write_sample(const sample& s, const symbol_tables& tables,
                                    table_marks new_from) {
  for (const auto& g : s.goroutines) {
    if (g.site >= tables.sites.size() || g.stack >= tables.stacks.size()) {
      throw std::logic_error("recording_writer: sample refers to an undefined site or stack");
    }
  }
  buf_.clear();
  if (v2_) {
    v2_->append_sample(buf_, s, tables);
  } else {
    append_definitions(tables, new_from);
    append_sample(s);
  }
  flush_line_buffer();
  written_ = {static_cast<std::uint32_t>(tables.sites.size()),
              static_cast<std::uint32_t>(tables.frames.size()),
              static_cast<std::uint32_t>(tables.stacks.size())};
}

void recording_writer::write_sample(const sample& s, const symbol_tables& tables) {
  write_sample(s, tables, written_);
}

std::uint64_t recording_writer::write_delta(const sample_delta& d, const symbol_tables& tables) {
  if (!v2_) throw std::logic_error("recording_writer: JSON Lines has no delta samples");
  buf_.clear();
  v2_->append_delta(buf_, d, tables);
  flush_line_buffer();
  return v2_->goroutines();
}

void recording_writer::write_end(const recording_end& e) {
  buf_.clear();
  if (v2_) {
    v2_encoder::append_end(buf_, e);
    flush_line_buffer();
    return;
  }
  buf_ += "{\"type\":\"end\",\"samples\":";
  append_json_int(buf_, e.samples);
  buf_ += ",\"reason\":\"";
  buf_ += to_string(e.reason);
  buf_ += "\",\"exit_status\":";
  if (e.exit_status) {
    append_json_int(buf_, *e.exit_status);
  } else {
    buf_ += "null";
  }
  buf_ += ",\"signal\":";
  if (e.signal) {
    append_json_int(buf_, *e.signal);
  } else {
    buf_ += "null";
  }
  buf_ += "}\n";
  flush_line_buffer();
}

std::string format_rfc3339_utc(std::int64_t unix_ns) {
  std::int64_t secs = unix_ns / 1'000'000'000;
  std::int64_t frac = unix_ns % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    --secs;
  }
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(frac));
  return buf;
}

}  // namespace gprofid
