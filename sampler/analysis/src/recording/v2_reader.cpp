#include "v2_reader.hpp"

#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <new>

#include "gprofid/analysis/recording_reader.hpp"
#include "gprofid/analysis/sample_changes.hpp"
#include "gprofid/recording/json_text.hpp"
#include "gprofid/recording/recording_format_v2.hpp"
#include "gprofid/recording/v2_blocks.hpp"
#include "gprofid/recording/varint.hpp"
#include "v2_cursor.hpp"
#include "v2_objects.hpp"

namespace gprofid {
namespace {

namespace v2 = recording_format_v2;
namespace bit = recording_format_v2::field_bit;
using v2_decode::cursor;
using v2_decode::decode_error;
using v2_decode::for_each_tagged;
using v2_decode::wrapping_add;
using v2_decode::wrapping_sub;

std::string text(std::string_view s, const char* what, std::size_t at) {
  std::string t(s);
  if (sanitize_utf8(t) != t) {
    throw decode_error{std::string(what) + " is not valid UTF-8 (recordings are UTF-8 text)", at};
  }
  return t;
}

// A known field of a sample or goroutine with the wrong wire type.
[[noreturn]] void wrong_wire(const char* what, std::size_t at) {
  throw decode_error{std::string(what) + " has the wrong wire type", at};
}

bool valid_state_code(std::uint64_t code) {
  if ((code >> 2) > std::numeric_limits<std::uint8_t>::max()) return false;
  const auto r = static_cast<wait_reason>(code >> 2);
  const auto st = static_cast<goroutine_state>(code & 3);
  return parse_wait_reason(to_string(r)) == r && parse_goroutine_state(to_string(st)) == st;
}

}  // namespace

struct v2_reader::zstd_state {
  struct deleter {
    void operator()(ZSTD_DCtx* d) const noexcept { ZSTD_freeDCtx(d); }
  };
  std::unique_ptr<ZSTD_DCtx, deleter> dctx{ZSTD_createDCtx()};
};

namespace {
std::string block_name(std::uint8_t type) {
  switch (static_cast<v2::block_type>(type)) {
    case v2::block_type::header:
      return "header";
    case v2::block_type::tables:
      return "tables";
    case v2::block_type::sample:
      return "sample";
    case v2::block_type::end:
      return "end";
  }
  return "type " + std::to_string(type);
}
}  // namespace

v2_reader::v2_reader(std::istream& in, std::string name) : in_(in), name_(std::move(name)) {
  auto fail = [&](const std::string& m) { throw recording_error(name_, 0, "offset 0: " + m); };
  if (!fill(v2::preamble_size)) {
    if (std::string_view(buf_).substr(0, v2::magic.size()) != v2::magic.substr(0, buf_.size()))
      fail("not a gprof-id recording (unknown first bytes)");
    fail("the recording ends within its 16-byte preamble (cut short)");
  }
  const std::uint32_t version = v2_blocks::preamble_version(buf_.data());
  if (version == 0) fail("not a gprof-id recording (unknown first bytes)");
  if (version > static_cast<std::uint32_t>(v2::version)) {
    fail("recording format version " + std::to_string(version) +
         " is newer than this gprof-id supports (" + std::to_string(v2::version) +
         "); use a newer gprof-id");
  }
  if (version != static_cast<std::uint32_t>(v2::version)) {
    fail("invalid binary recording format version " + std::to_string(version));
  }
  pos_ = v2::preamble_size;
  read_header_block();
  // A file can go back to a keyframe; a pipe (or standard input's own buffer) cannot. (A small
  // file may be read to its end already: the stream's state is asked aside from that.)
  const std::ios::iostate state = in_.rdstate();
  in_.clear();
  const std::istream::pos_type at = in_.tellg();
  if (at != std::istream::pos_type(-1)) {
    in_.seekg(at);
    seekable_ = !in_.fail();
    // Where the recording starts in the stream: offsets count from there.
    stream_base_ =
        static_cast<std::streamoff>(at) - static_cast<std::streamoff>(consumed_ + buf_.size());
  }
  in_.clear(state);
}

v2_reader::~v2_reader() = default;

bool v2_reader::fill(std::size_t need) {
  while (buf_.size() - pos_ < need) {
    if (pos_ > 0 && pos_ >= buf_.size() / 2) {
      buf_.erase(0, pos_);
      consumed_ += pos_;
      pos_ = 0;
    }
    if (!in_) return false;
    // Grow by what arrives, at most a few MB at a time: a length read from the file decides
    // how much is asked for, never how much is allocated before the bytes are there.
    const std::size_t want = std::clamp<std::size_t>(need - (buf_.size() - pos_), 1 << 16, 1 << 22);
    const std::size_t old = buf_.size();
    buf_.resize(old + want);
    in_.read(buf_.data() + old, static_cast<std::streamsize>(want));
    buf_.resize(old + static_cast<std::size_t>(in_.gcount()));
    if (in_.bad()) {
      throw recording_error(name_, 0,
                            "offset " + std::to_string(consumed_ + buf_.size()) +
                                ": read error: " + std::strerror(errno));
    }
  }
  return true;
}

v2_reader::read_result v2_reader::read_block(block& b) {
  block_offset_ = consumed_ + pos_;
  if (!fill(v2::block_header_size)) {
    return buf_.size() == pos_ ? read_result::end_of_file : read_result::torn;
  }
  ++block_no_;
  const v2_blocks::block_header h = v2_blocks::parse_header(buf_.data() + pos_);
  b.type = h.type;
  b.flags = h.flags;
  const std::uint32_t length = h.length;
  const std::string where =
      "offset " + std::to_string(block_offset_) + ", block " + std::to_string(block_no_) + ": ";
  if (length > v2::max_block_bytes) {
    throw recording_error(name_, 0,
                          where + "block length " + std::to_string(length) +
                              " is over the format's limit of " +
                              std::to_string(v2::max_block_bytes) + " bytes");
  }
  if (!fill(v2::block_header_size + length)) return read_result::torn;
  const std::string_view stored(buf_.data() + pos_ + v2::block_header_size, length);
  if (v2_blocks::checksum(buf_.data() + pos_, stored) != h.crc) {
    throw recording_error(name_, 0, where + "bad checksum (the block is corrupt)");
  }
  pos_ += v2::block_header_size + length;
  if (b.flags & ~v2::block_flag::known) {
    throw recording_error(name_, 0, where + "unknown block flags " + std::to_string(b.flags));
  }
  b.compressed = (b.flags & v2::block_flag::zstd) != 0;
  if (!b.compressed) {
    b.payload = stored;
    return read_result::block;
  }
  // varint decompressed size, then one zstd frame that must decompress to exactly that.
  try {
    cursor c(stored);
    const std::uint64_t size = c.u("decompressed size", v2::max_block_bytes);
    const std::string_view frame = stored.substr(c.pos());
    if (!v2::zstd_size_allowed(size, frame.size())) {
      throw decode_error{"zstd frame of " + std::to_string(frame.size()) + " bytes declares " +
                             std::to_string(size) + " bytes, more than the format's limit of " +
                             std::to_string(v2::max_zstd_ratio) +
                             " times its size (a decompression bomb?)",
                         c.pos()};
    }
    if (!zstd_) zstd_ = std::make_unique<zstd_state>();
    if (!zstd_->dctx) throw std::bad_alloc();
    ZSTD_DCtx_reset(zstd_->dctx.get(), ZSTD_reset_session_only);
    // The output grows as zstd produces it, up to one byte past the declared size (to see a
    // frame that is longer than it says).
    raw_.resize(std::min<std::uint64_t>(size + 1, std::max<std::size_t>(frame.size() * 8, 4096)));
    ZSTD_inBuffer zin{frame.data(), frame.size(), 0};
    ZSTD_outBuffer zout{raw_.data(), raw_.size(), 0};
    while (true) {
      const std::size_t r = ZSTD_decompressStream(zstd_->dctx.get(), &zout, &zin);
      if (ZSTD_isError(r)) {
        throw decode_error{std::string("corrupt zstd data: ") + ZSTD_getErrorName(r), c.pos()};
      }
      if (zout.pos > size) {
        throw decode_error{"zstd data decompresses to more than the " + std::to_string(size) +
                               " bytes it declares",
                           c.pos()};
      }
      if (r == 0) break;
      if (zout.pos == zout.size) {
        raw_.resize(std::min<std::uint64_t>(size + 1, raw_.size() * 2));
        zout.dst = raw_.data();
        zout.size = raw_.size();
      } else if (zin.pos == zin.size) {
        throw decode_error{"zstd frame is incomplete", c.pos()};
      }
    }
    if (zout.pos != size || zin.pos != zin.size) {
      throw decode_error{"zstd frame does not match its declared size " + std::to_string(size),
                         c.pos()};
    }
    b.payload = std::string_view(raw_.data(), zout.pos);
  } catch (const decode_error& e) {
    throw recording_error(
        name_, 0,
        where.substr(0, where.size() - 2) + " (" + block_name(b.type) + "): " + e.message);
  }
  return read_result::block;
}

void v2_reader::read_header_block() {
  block b;
  const read_result r = read_block(b);
  if (r != read_result::block) {
    throw recording_error(name_, 0,
                          "offset " + std::to_string(block_offset_) +
                              ": the recording ends before its header block (cut short)");
  }
  if (b.type != static_cast<std::uint8_t>(v2::block_type::header)) {
    throw recording_error(name_, 0,
                          "offset " + std::to_string(block_offset_) +
                              ": expected a header block first, got a block of type " +
                              std::to_string(b.type));
  }
  namespace f = v2::header_field;
  header_ = {};
  header_.version = v2::version;
  header_.runtime_version.clear();
  cursor c(b.payload);
  try {
    for_each_tagged(c, [&](std::uint64_t field, std::uint8_t wire, cursor& c) {
      const std::size_t at = c.pos();
      if (wire == v2::wire::bytes) {
        const std::string_view s = c.bytes("header field");
        switch (field) {
          case f::workload:
            header_.workload = text(s, "workload", at);
            return true;
          case f::command:
            header_.command_line.push_back(text(s, "command", at));
            return true;
          case f::start:
            header_.start_wall = text(s, "start", at);
            return true;
          case f::runtime:
            header_.runtime_version = text(s, "runtime", at);
            return true;
        }
        return true;  // already skipped
      }
      const std::int64_t v = c.s("header field");
      switch (field) {
        case f::pid:
          header_.pid = v;
          break;
        case f::interval_ns:
          header_.interval_ns = v;
          break;
        case f::start_unix_ns:
          header_.start_unix_ns = v;
          break;
        case f::start_monotonic_ns:
          header_.start_monotonic_ns = v;
          break;
        case f::workers:
          header_.workers = v;
          break;
      }
      return true;
    });
  } catch (const decode_error& e) {
    const std::uint64_t at =
        b.compressed ? block_offset_ : block_offset_ + v2::block_header_size + e.at;
    throw recording_error(name_, 0,
                          "offset " + std::to_string(at) + ", block " + std::to_string(block_no_) +
                              " (header): " + e.message);
  }
}

void v2_reader::read_tables(const block& b) {
  cursor c(b.payload);
  auto string_at = [&](const char* what) -> const std::string& {
    const std::size_t at = c.pos();
    const std::uint64_t i = c.u(what);
    if (i >= strings_.size()) {
      throw decode_error{std::string(what) + " refers to undefined string " + std::to_string(i),
                         at};
    }
    return strings_[i];
  };
  auto read_locations = [&](const char* what, std::vector<code_location>& table) {
    const std::uint64_t n = c.count(what, 4);
    for (std::uint64_t i = 0; i < n; ++i) {
      code_location l;
      l.function = string_at("function");
      l.file = string_at("file");
      l.line = static_cast<std::uint32_t>(c.u("line", std::numeric_limits<std::uint32_t>::max()));
      l.pc = c.u("pc");
      table.push_back(std::move(l));
    }
  };
  const std::uint64_t n_strings = c.count("string count", 1);
  for (std::uint64_t i = 0; i < n_strings; ++i) {
    const std::size_t at = c.pos();
    strings_.push_back(text(c.bytes("string"), "string", at));
  }
  read_locations("site count", tables_.sites);
  read_locations("frame count", tables_.frames);
  const std::uint64_t n_stacks = c.count("stack count", 1);
  for (std::uint64_t i = 0; i < n_stacks; ++i) {
    const std::uint64_t depth = c.count("stack depth", 1);
    std::vector<std::uint32_t> frames;
    frames.reserve(depth);
    for (std::uint64_t k = 0; k < depth; ++k) {
      const std::size_t at = c.pos();
      const std::uint64_t f = c.u("frame id");
      if (f >= tables_.frames.size()) {
        throw decode_error{"stack " + std::to_string(tables_.stacks.size()) +
                               " refers to undefined frame " + std::to_string(f),
                           at};
      }
      frames.push_back(static_cast<std::uint32_t>(f));
    }
    tables_.stacks.push_back(std::move(frames));
  }
  const std::uint64_t n_sets = c.count("label set count", 1);
  for (std::uint64_t i = 0; i < n_sets; ++i) {
    const std::size_t at = c.pos();
    const std::uint64_t n = c.count("label count", 2);
    label_set set;
    set.reserve(n);
    for (std::uint64_t k = 0; k < n; ++k) {
      const std::string& key = string_at("label key");
      const std::string& value = string_at("label value");
      if (!set.empty() && set.back().first >= key) {
        throw decode_error{
            "label set " + std::to_string(label_sets_.size()) + ": keys not sorted and unique", at};
      }
      set.emplace_back(key, value);
    }
    label_sets_.push_back(std::make_shared<const label_set>(std::move(set)));
  }
  // Bytes after the known sections: tables a newer writer added, ignored.
}

goroutine_sample v2_reader::value_before(const live_goroutine& l) const {
  goroutine_sample g = l.g;
  if (l.as_of != applied_) {
    // Unchanged since then: still waiting, for the time between the samples longer (the sum
    // of the gaps modulo 2^64 is the difference of the times).
    g.wait_ns =
        predicted_wait(g.state, g.wait_ns, g.state, wrapping_sub(previous_t_ns_, l.as_of_ns));
  }
  return g;
}

void v2_reader::current(sample& out) const {
  out.seq = seq_;
  out.time_ns = previous_t_ns_;
  out.duration_ns = duration_ns_;
  out.pause_ns = pause_ns_;
  out.goroutines.clear();
  out.goroutines.reserve(alive_);
  for (const live_goroutine& l : live_) {
    if (l.gone) continue;
    goroutine_sample& g = out.goroutines.emplace_back(l.g);
    if (l.as_of != applied_) {
      g.wait_ns =
          predicted_wait(g.state, g.wait_ns, g.state, wrapping_sub(previous_t_ns_, l.as_of_ns));
    }
  }
  out.objects = graph();
}

void v2_reader::merge_created(bool collided) {
  // A new id reusing an exited one's would sit beside its hole: squeeze the holes out first.
  if (collided || (gone_ > 64 && gone_ * 8 > live_.size())) {
    std::erase_if(live_, [](const live_goroutine& l) { return l.gone; });
    gone_ = 0;
  }
  if (created_.empty()) return;
  const bool after_all = live_.empty() || live_.back().g.id < created_.front().g.id;
  const auto middle = live_.insert(live_.end(), std::make_move_iterator(created_.begin()),
                                   std::make_move_iterator(created_.end()));
  if (!after_all) {
    std::inplace_merge(
        live_.begin(), middle, live_.end(),
        [](const live_goroutine& a, const live_goroutine& b) { return a.g.id < b.g.id; });
  }
  created_.clear();
}

// A sample block being applied: what read_sample() set up, for the records read in pieces.
struct v2_reader::sample_decode {
  explicit sample_decode(std::string_view payload) : c(payload) {}
  cursor c;
  bool keyframe = false;
  std::uint64_t columns = 0;
  std::int64_t t_ns = 0, dt = 0;
  std::uint64_t now = 0, claimed = 0, n_records = 0, i = 0, id = 0;
  std::size_t count_at = 0, old_size = 0, p = 0, e = 0;
  bool collided = false;
  bool refresh = false;      // a keyframe over the state before
  std::size_t next_old = 0;  // refresh: the first goroutine before not yet met
  struct {
    std::int64_t wait = 0, resumes = 0, running = 0, runnable = 0, parent = 0, created = 0;
  } column;
};

bool v2_reader::read_sample(const block& b, std::size_t budget) {
  if (decode_) {
    *decode_ = sample_decode(b.payload);
  } else {
    decode_ = std::make_unique<sample_decode>(b.payload);
  }
  sample_decode& st = *decode_;
  cursor& c = st.c;
  const std::uint64_t flags = c.u("sample flags");
  if (flags & ~v2::sample_flag::known) {
    throw decode_error{"unknown sample flags " + std::to_string(flags), 0};
  }
  const bool keyframe = st.keyframe = (flags & v2::sample_flag::keyframe) != 0;
  keyframe_ = keyframe;
  // With sample_flag::columns these fields are differences from their column's last value,
  // added modulo 2^64 (any 64-bit value round-trips; nothing overflows).
  st.columns = (flags & v2::sample_flag::columns) ? v2::column_fields : 0;
  if (!keyframe && !have_state_) {
    throw decode_error{"a delta sample before any keyframe", 0};
  }
  changes_.clear();
  created_.clear();
  changes_.seq = c.u("seq");
  const std::int64_t t_ns = st.t_ns = changes_.time_ns = c.s("t_ns");
  changes_.duration_ns = c.s("snapshot_ns");
  changes_.pause_ns = c.s("pause_ns");
  changes_.first = !have_state_;
  st.count_at = c.pos();
  st.claimed = c.u("goroutine count");
  st.dt = keyframe ? 0 : wrapping_sub(t_ns, previous_t_ns_);
  st.now = applied_ + 1;
  // A keyframe lists everything again. With a state to compare with it is applied over that
  // state (a refresh): a goroutine it does not list exits, one it lists is compared with its
  // value before, in place, with no copy of the state. Without one, it starts the state.
  st.refresh = keyframe && have_state_;
  if (keyframe && !have_state_) {
    live_.clear();
    gone_ = 0;
    alive_ = 0;
  }
  // New goroutines whose ids are above every id in live_ (a runtime's ids only grow; every one
  // of a keyframe's) are appended to live_ at once instead of waiting in created_: no second
  // copy of a keyframe's goroutines. Lookups stay within the goroutines alive before; if the
  // sample turns out bad, the appended ones are taken back.
  st.old_size = live_.size();

  exits_.clear();
  const std::uint64_t n_exits = c.count("exit count", 1);
  std::uint64_t id = 0;
  for (std::uint64_t i = 0; i < n_exits; ++i) {
    const std::size_t at = c.pos();
    const std::uint64_t d = c.u("exited id");
    if ((i > 0 && d == 0) || id + d < id) {
      throw decode_error{"exited goroutine ids must increase (goes from " + std::to_string(id) +
                             " by " + std::to_string(d) + ")",
                         at};
    }
    id += d;
    exits_.push_back(id);
  }

  st.n_records = c.count("record count", 2);
  // A keyframe holds every goroutine as a record: room for that many and half as many again
  // (new ids and holes to come) at once. Grown by doubling instead, the old and the new array
  // are both held at some point, the old one touched whole. (Room not yet used is not
  // resident. The count is bounded by the block's bytes: count(), 2 bytes a record at least.)
  if (keyframe) {
    const std::size_t n = std::min(st.claimed, st.n_records);
    live_.reserve(n + n / 2);
  }
  // Only a first sample is handed over in pieces: every goroutine in it is created, none
  // exits or changes, so its pieces are the sample's one list cut in id order.
  return read_records(changes_.first ? std::max<std::size_t>(budget, 1) : SIZE_MAX);
}

bool v2_reader::read_records(std::size_t budget) {
  sample_decode& st = *decode_;
  cursor& c = st.c;
  const bool keyframe = st.keyframe;
  const std::uint64_t columns = st.columns;
  const std::int64_t t_ns = st.t_ns, dt = st.dt;
  const std::uint64_t now = st.now, claimed = st.claimed, n_records = st.n_records;
  const std::size_t count_at = st.count_at, old_size = st.old_size;
  const bool refresh = st.refresh;
  // Where the decoding stands, in locals (registers) while it runs, kept for the next piece.
  std::uint64_t id = st.id, i = st.i;
  std::size_t p = st.p, e = st.e, next_old = st.next_old;
  bool collided = st.collided;
  auto column = st.column;
  auto keep_place = [&] {
    st.id = id;
    st.i = i;
    st.p = p;
    st.e = e;
    st.next_old = next_old;
    st.collided = collided;
    st.column = column;
  };
  // (The goroutines appended to live_ are taken back if the sample turns out bad.)
  struct take_back {
    std::vector<live_goroutine>& live;
    std::size_t size;
    bool keep = false;
    ~take_back() {
      if (!keep) live.erase(live.begin() + static_cast<std::ptrdiff_t>(size), live.end());
    }
  } appended{live_, old_size};
  // Records and exits by increasing id, against the state before this sample: p is where the
  // last id looked up is (or would be) in live_; created goroutines wait in created_.
  // The next id named is usually a few goroutines on: gallop from p, then search the span.
  auto seek = [&](std::uint64_t gid) {
    std::size_t lo = p, hi = p;
    for (std::size_t step = 1; hi < old_size && live_[hi].g.id < gid; step *= 2) {
      lo = hi + 1;
      hi = lo + step;
    }
    hi = std::min(hi, old_size);
    p = static_cast<std::size_t>(
        std::lower_bound(live_.begin() + static_cast<std::ptrdiff_t>(lo),
                         live_.begin() + static_cast<std::ptrdiff_t>(hi), gid,
                         [](const live_goroutine& l, std::uint64_t v) { return l.g.id < v; }) -
        live_.begin());
    return p < old_size && live_[p].g.id == gid;
  };
  auto exit_one = [&](live_goroutine& l) {
    changes_.exited.push_back(value_before(l));
    l.g.labels.reset();
    l.gone = true;
    ++gone_;
    --alive_;
  };
  // A refresh: the goroutines before with ids below `limit` (or all that are left) that it
  // did not list exit.
  auto unlisted_below = [&](std::uint64_t limit, bool all = false) {
    std::size_t& q = next_old;
    for (; q < old_size && (all || live_[q].g.id < limit); ++q) {
      if (!live_[q].gone) exit_one(live_[q]);
    }
  };
  // Takes the exits below `limit` (or up to it): each must name a goroutine alive before (a
  // keyframe's cannot: it lists the goroutines alive, not what went).
  auto exits_below = [&](std::uint64_t limit, bool inclusive) {
    for (; e < exits_.size() && (exits_[e] < limit || (inclusive && exits_[e] == limit)); ++e) {
      if (refresh || !seek(exits_[e]) || live_[p].gone) {
        throw decode_error{
            "exit of goroutine " + std::to_string(exits_[e]) + ", which is not alive", count_at};
      }
      exit_one(live_[p]);
    }
  };
  // A zigzag field's value, or with sample_flag::columns the column's last value plus it.
  auto signed_field = [&](std::uint64_t field, std::int64_t& last, const char* what) {
    std::int64_t v = c.s(what);
    if (columns & field) {
      v = wrapping_add(last, v);
      last = v;
    }
    return v;
  };
  for (; i < n_records; ++i) {
    if (changes_.created.size() >= budget) {
      appended.keep = true;
      keep_place();
      pending_ = true;
      return false;  // the rest in the next piece
    }
    const std::size_t at = c.pos();
    const std::uint64_t d = c.u("goroutine id");
    if ((i > 0 && d == 0) || id + d < id) {
      throw decode_error{"goroutine ids must increase (goes from " + std::to_string(id) + " by " +
                             std::to_string(d) + ")",
                         at};
    }
    id += d;
    const std::uint64_t mask = c.u("field mask");
    if (mask & ~bit::known) {
      throw decode_error{"goroutine " + std::to_string(id) + ": unknown field bits " +
                             std::to_string(mask & ~bit::known),
                         at};
    }
    exits_below(id, false);
    bool found, alive;
    if (refresh) {
      unlisted_below(id);
      p = next_old;
      found = p < old_size && live_[p].g.id == id;
      alive = found && !live_[p].gone;
      if (found) ++next_old;
    } else {
      found = seek(id);
      alive = found && !live_[p].gone;
    }
    const bool exiting = !refresh && alive && e < exits_.size() && exits_[e] == id;
    // A refresh's goroutine alive before: its value before is kept aside, the record decoded
    // over it, and the two compared.
    const bool relisted = refresh && alive;
    // Decoded in place: into a new entry of live_ (or created_), or over the goroutine's
    // entry once its value before is kept; the lists get one copy each.
    goroutine_sample* into;
    if (relisted && (mask & bit::created)) {
      live_goroutine& l = live_[p];
      changes_.changed_before.push_back(value_before(l));  // taken back if unchanged
      l.g = goroutine_sample{};
      l.as_of_ns = t_ns;
      l.as_of = now;
      into = &l.g;
      into->id = id;
      into->created_ns = t_ns;
    } else if (mask & bit::created) {
      if (alive) {
        throw decode_error{"goroutine " + std::to_string(id) + " created while alive", at};
      }
      collided |= found;
      live_goroutine& n =
          live_.empty() || live_.back().g.id < id ? live_.emplace_back() : created_.emplace_back();
      n.as_of_ns = t_ns;
      n.as_of = now;
      into = &n.g;
      into->id = id;
      into->created_ns = t_ns;
    } else {
      if (!alive || exiting || refresh) {
        throw decode_error{
            "delta for goroutine " + std::to_string(id) +
                (exiting ? ", which exits in the same sample" : ", which does not exist"),
            at};
      }
      live_goroutine& l = live_[p];
      l.g.wait_ns = changes_.changed_before.emplace_back(value_before(l)).wait_ns;
      l.as_of_ns = t_ns;
      l.as_of = now;
      into = &l.g;
    }
    goroutine_sample& g = *into;
    const goroutine_state base_state = g.state;
    const std::int64_t base_wait = g.wait_ns;
    if (mask & bit::state) {
      const std::size_t vat = c.pos();
      const std::uint64_t code = c.u("state");
      if (!valid_state_code(code)) {
        throw decode_error{
            "goroutine " + std::to_string(id) + ": unknown state/wait code " + std::to_string(code),
            vat};
      }
      g.state = static_cast<goroutine_state>(code & 3);
      g.reason = static_cast<wait_reason>(code >> 2);
    }
    if (mask & bit::stack) g.stack = static_cast<std::uint32_t>(c.u("stack", UINT32_MAX));
    const std::int64_t want_wait =
        (mask & bit::created) ? 0 : predicted_wait(base_state, base_wait, g.state, dt);
    g.wait_ns = (mask & bit::wait_ns)
                    ? wrapping_add(want_wait, signed_field(bit::wait_ns, column.wait, "wait_ns"))
                    : want_wait;
    if (mask & bit::resumes) {
      g.resumes +=
          static_cast<std::uint64_t>(signed_field(bit::resumes, column.resumes, "resumes"));
    }
    if (mask & bit::running_ns) {
      g.running_ns =
          wrapping_add(g.running_ns, signed_field(bit::running_ns, column.running, "running_ns"));
    }
    if (mask & bit::runnable_ns) {
      g.runnable_ns = wrapping_add(g.runnable_ns,
                                   signed_field(bit::runnable_ns, column.runnable, "runnable_ns"));
    }
    if (mask & bit::labels) {
      const std::size_t vat = c.pos();
      const std::uint64_t l = c.u("labels");
      if (l > label_sets_.size()) {
        throw decode_error{"goroutine " + std::to_string(id) + " refers to undefined label set " +
                               std::to_string(l - 1),
                           vat};
      }
      g.labels = l == 0 ? nullptr : label_sets_[l - 1];
    }
    if (mask & bit::site) g.site = static_cast<std::uint32_t>(c.u("site", UINT32_MAX));
    if (mask & bit::parent) {
      g.parent_id = static_cast<std::uint64_t>(
          wrapping_add(static_cast<std::int64_t>(g.parent_id),
                       signed_field(bit::parent, column.parent, "parent")));
    }
    if (mask & bit::created_ns) {
      g.created_ns =
          wrapping_add(g.created_ns, signed_field(bit::created_ns, column.created, "created_ns"));
    }
    if (mask & bit::extension) read_extension(c, g);
    if (g.site >= tables_.sites.size()) {
      throw decode_error{
          "goroutine " + std::to_string(id) + " refers to undefined site " + std::to_string(g.site),
          at};
    }
    if (g.stack >= tables_.stacks.size()) {
      throw decode_error{"goroutine " + std::to_string(id) + " refers to undefined stack " +
                             std::to_string(g.stack),
                         at};
    }
    if (relisted) {
      if (unchanged(changes_.changed_before.back(), g, wrapping_sub(t_ns, previous_t_ns_))) {
        changes_.changed_before.pop_back();
      } else {
        changes_.changed_after.push_back(g);
      }
    } else if (!(mask & bit::created)) {
      changes_.changed_after.push_back(g);
    } else {
      changes_.created.push_back(g);
    }
  }
  exits_below(UINT64_MAX, true);
  if (refresh) unlisted_below(UINT64_MAX, true);
  const std::uint64_t holds = alive_ + created_.size() + (live_.size() - old_size);
  if (holds != claimed) {
    created_.clear();
    throw decode_error{
        "claims " + std::to_string(claimed) + " goroutines but holds " + std::to_string(holds),
        count_at};
  }
  if (keyframe) {
    objects_.clear();
    more_objects_.clear();
  }
  const std::size_t trailer_at = c.pos();
  read_trailing_fields(c);
  if (!more_objects_.empty()) {
    try {
      v2_decode::merge_graphs(objects_, more_objects_, graph_);
    } catch (decode_error& e) {
      e.at = trailer_at;
      throw;
    }
  }
  alive_ = holds;
  appended.keep = true;
  pending_ = false;
  merge_created(collided);
  have_state_ = true;
  previous_t_ns_ = t_ns;
  applied_ = now;
  seq_ = changes_.seq;
  duration_ns_ = changes_.duration_ns;
  pause_ns_ = changes_.pause_ns;
  changes_.alive = alive_;
  changes_.objects = graph().size();
  return true;
}

void v2_reader::read_extension(cursor& c, goroutine_sample& g) {
  const std::string_view bytes = c.bytes("extension");
  const std::size_t at = c.pos() - bytes.size();
  cursor e(bytes);
  try {
    for_each_tagged(e, [&](std::uint64_t field, std::uint8_t wire, cursor& e) {
      if (field != v2::goroutine_field::blocked_on) return false;  // a newer writer's: skipped
      if (wire != v2::wire::varint) wrong_wire("blocked_on", e.pos());
      g.blocked_on = e.u("blocked_on");
      return true;
    });
  } catch (decode_error& err) {
    err.at += at;
    throw;
  }
}

void v2_reader::read_trailing_fields(cursor& c) {
  for_each_tagged(c, [&](std::uint64_t field, std::uint8_t wire, cursor& c) {
    const bool apart = field == v2::sample_field::more_objects;
    if (field != v2::sample_field::objects && !apart) return false;  // a newer writer's
    const char* what = apart ? "more_objects" : "objects";
    if (wire != v2::wire::bytes) wrong_wire(what, c.pos());
    const std::string_view bytes = c.bytes(what);
    try {
      v2_decode::apply_object_changes(bytes, apart ? more_objects_ : objects_, objects_scratch_,
                                      tables_.frames.size(), apart);
    } catch (decode_error& e) {
      e.at += c.pos() - bytes.size();
      throw;
    }
    return true;
  });
}

void v2_reader::read_end(const block& b) {
  namespace f = v2::end_field;
  cursor c(b.payload);
  recording_end e;
  for_each_tagged(c, [&](std::uint64_t field, std::uint8_t wire, cursor& c) {
    if (wire != v2::wire::varint) return false;
    const std::size_t at = c.pos();
    const std::uint64_t v = c.u("end field");
    auto as_int = [&](std::uint64_t u) {
      const std::int64_t s = varint::unzigzag(u);
      if (s < std::numeric_limits<int>::min() || s > std::numeric_limits<int>::max()) {
        throw decode_error{"end field out of range", at};
      }
      return static_cast<int>(s);
    };
    switch (field) {
      case f::samples:
        e.samples = v;
        break;
      case f::reason:
        if (v >= end_reason_names.size()) {
          throw decode_error{"unknown end reason " + std::to_string(v), at};
        }
        e.reason = static_cast<end_reason>(v);
        break;
      case f::exit_status:
        e.exit_status = as_int(v);
        break;
      case f::signal:
        e.signal = as_int(v);
        break;
    }
    return true;
  });
  end_ = e;
}

std::optional<recording_restart_point> v2_reader::restart_point() const noexcept {
  if (!keyframe_ || samples_read_ == 0) return std::nullopt;
  return recording_restart_point{block_offset_, block_no_, samples_read_};
}

void v2_reader::restart(const recording_restart_point& p) {
  if (p.offset >= read_until_ || p.block == 0 || p.sample == 0) {
    throw recording_error(name_, 0,
                          "offset " + std::to_string(p.offset) +
                              ": not a keyframe this reader has read (cannot restart there)");
  }
  in_.clear();
  in_.seekg(stream_base_ + static_cast<std::streamoff>(p.offset));
  if (!in_) {
    throw recording_error(name_, 0,
                          "offset " + std::to_string(p.offset) +
                              ": cannot seek back to a keyframe (the input is not a file)");
  }
  buf_.clear();
  pos_ = 0;
  consumed_ = p.offset;
  block_no_ = p.block - 1;
  samples_read_ = p.sample - 1;
  // The keyframe replaces every goroutine and the graph; without a state it lists them all as
  // created, as the first sample does.
  have_state_ = false;
  keyframe_ = false;
  live_.clear();
  created_.clear();
  gone_ = 0;
  alive_ = 0;
  objects_.clear();
  more_objects_.clear();
  graph_.clear();
  changes_.clear();
  pending_ = false;
  end_.reset();
  done_ = false;
}

bool v2_reader::next(sample& out) {
  if (!next_sample_block()) return false;
  current(out);
  return true;
}

bool v2_reader::next_changes(sample_changes& out) {
  if (pending_) {
    next_piece();
  } else if (!next_sample_block(true, nullptr, piece_)) {
    return false;
  }
  std::swap(out, changes_);  // out's lists become the scratch space of the next sample
  changes_.clear();
  out.more = pending_;
  if (pending_) {
    // The next piece is of the same sample.
    changes_.seq = out.seq;
    changes_.time_ns = out.time_ns;
    changes_.duration_ns = out.duration_ns;
    changes_.pause_ns = out.pause_ns;
    changes_.first = out.first;
    out.alive = 0;
    out.objects = 0;
  }
  // Scratch far larger than this sample needed (the first sample's, every goroutine created)
  // is given back: held on, it would add to the peak at the next keyframe.
  changes_.release_beyond(std::max<std::size_t>(std::size_t{1} << 16, 2 * out.largest()));
  return true;
}

bool v2_reader::next_sample_block(bool apply, bool* keyframe, std::size_t budget) {
  while (!done_) {
    block b;
    read_result r;
    try {
      r = read_block(b);
    } catch (const std::bad_alloc&) {
      throw recording_out_of_memory(name_ + ": offset " + std::to_string(block_offset_) +
                                    ": out of memory reading this block");
    }
    if (r == read_result::end_of_file) break;
    if (r == read_result::torn) {
      if (!finished_)
        warnings_.push_back(name_ + ": offset " + std::to_string(block_offset_) +
                            ": incomplete last block ignored (the recording was cut short)");
      break;
    }
    const std::string where =
        "offset " + std::to_string(block_offset_) + ", block " + std::to_string(block_no_);
    const bool again = block_offset_ < read_until_;  // read before a restart()
    read_until_ = std::max(read_until_, consumed_ + pos_);
    if (end_) throw recording_error(name_, 0, where + ": a block after the end block");
    try {
      switch (static_cast<v2::block_type>(b.type)) {
        case v2::block_type::sample:
          if (apply) {
            if (!read_sample(b, budget)) {
              // A piece: the sample is counted when its last piece is read (next_piece).
              pending_block_ = b;
              pending_again_ = again;
              return true;
            }
          } else {
            pass_sample(b, keyframe);
          }
          ++samples_read_;
          if (!again) sequence_.check(seq_, block_offset_, name_, warnings_);
          return true;
        case v2::block_type::tables:
          if (!again) read_tables(b);  // else its entries are in the tables already
          break;
        case v2::block_type::end:
          read_end(b);
          break;
        case v2::block_type::header:
          throw recording_error(name_, 0, where + ": a second header block");
        default:
          if (b.type >= v2::first_optional_type) break;  // an optional block a newer writer added
          throw recording_error(name_, 0, where + ": unknown block type " + std::to_string(b.type));
      }
    } catch (const decode_error& e) {
      fail_in_block(b, e);
    } catch (const std::bad_alloc&) {
      throw recording_out_of_memory(name_ + ": " + where + ": out of memory reading this block");
    }
  }
  finish();
  return false;
}

void v2_reader::fail_in_block(const block& b, const decode_error& e) const {
  const std::uint64_t at =
      b.compressed ? block_offset_ : block_offset_ + v2::block_header_size + e.at;
  std::string what = b.type == static_cast<std::uint8_t>(v2::block_type::sample)
                         ? " (sample " + std::to_string(samples_read_) + ")"
                         : " (" + block_name(b.type) + ")";
  throw recording_error(
      name_, 0,
      "offset " + std::to_string(at) + ", block " + std::to_string(block_no_) + what + ": " +
          e.message +
          (b.compressed ? " (at byte " + std::to_string(e.at) + " of the decompressed block)"
                        : ""));
}

void v2_reader::next_piece() {
  try {
    if (!read_records(piece_)) return;
  } catch (const decode_error& e) {
    fail_in_block(pending_block_, e);
  } catch (const std::bad_alloc&) {
    throw recording_out_of_memory(name_ + ": offset " + std::to_string(block_offset_) + ", block " +
                                  std::to_string(block_no_) + ": out of memory reading this block");
  }
  ++samples_read_;
  if (!pending_again_) sequence_.check(seq_, block_offset_, name_, warnings_);
}

void v2_reader::pass_sample(const block& b, bool* keyframe) {
  cursor c(b.payload);
  const std::uint64_t flags = c.u("sample flags");
  if (flags & ~v2::sample_flag::known) {
    throw decode_error{"unknown sample flags " + std::to_string(flags), 0};
  }
  if (keyframe) *keyframe = (flags & v2::sample_flag::keyframe) != 0;
  seq_ = c.u("seq");
  keyframe_ = (flags & v2::sample_flag::keyframe) != 0;
  // The goroutines and the graph are no sample's now: only a keyframe starts them again.
  have_state_ = false;
}

void v2_reader::rewind(const mark& m) {
  in_.clear();
  in_.seekg(stream_base_ + static_cast<std::streamoff>(m.offset));
  if (in_.fail()) {
    throw recording_error(name_, 0,
                          "offset " + std::to_string(m.offset) + ": cannot seek back to it");
  }
  buf_.clear();
  pos_ = 0;
  consumed_ = m.offset;
  block_no_ = m.block_no;
  samples_read_ = m.samples_read;
}

bool v2_reader::skip_to(std::uint64_t index) {
  if (samples_read_ > index) return true;
  if (!seekable_) {
    while (samples_read_ <= index) {
      if (!next_sample_block()) return false;
    }
    return true;
  }
  // Pass over the samples up to `index`, remembering where the last keyframe among them was;
  // then apply from there (or from here, if none was: the state here is the one to go on from).
  const mark start = here();
  const bool had_state = have_state_;
  mark from = start;
  bool from_keyframe = false;
  while (samples_read_ <= index) {
    const mark m = here();
    bool keyframe = false;
    if (!next_sample_block(false, &keyframe)) return false;
    if (keyframe) {
      from = m;
      from_keyframe = true;
    }
  }
  rewind(from);
  // Passing touched no goroutine: without a keyframe the state here is still that of the
  // sample before `start`, and the deltas apply to it.
  if (!from_keyframe) have_state_ = had_state;
  while (samples_read_ <= index) next_sample_block();
  return true;
}

std::uint64_t v2_reader::pass_rest() {
  std::uint64_t n = 0;
  while (next_sample_block(false)) ++n;
  return n;
}

void v2_reader::finish() {
  if (done_) return;
  done_ = true;
  if (finished_) return;  // restarted: the end's warnings were given when it was first reached
  finished_ = true;
  const std::string at = name_ + ": offset " + std::to_string(consumed_ + pos_) + ": ";
  if (!end_) {
    warnings_.push_back(at + "no end block (the recording was cut short)");
    return;
  }
  if (end_->samples != samples_read_) {
    warnings_.push_back(at + "the end block says " + std::to_string(end_->samples) +
                        " samples, the file has " + std::to_string(samples_read_) +
                        " (samples were lost or added)");
  }
  if (auto w = ended_badly(*end_)) warnings_.push_back(at + *w);
}

}  // namespace gprofid
