#include "gprofid/recording/v2_encoder.hpp"

#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "gallop.hpp"
#include "gprofid/recording/json_text.hpp"
#include "gprofid/recording/v2_blocks.hpp"
#include "gprofid/recording/v2_tagged.hpp"
#include "gprofid/recording/v2_wait_objects.hpp"
#include "gprofid/recording/varint.hpp"

namespace gprofid {
namespace {

namespace v2 = recording_format_v2;
namespace bit = recording_format_v2::field_bit;
using varint::append;
using varint::append_signed;

// Wrapping difference: exact for any two values, decoded by wrapping addition.
std::int64_t delta(std::int64_t now, std::int64_t before) noexcept {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(now) -
                                   static_cast<std::uint64_t>(before));
}
std::int64_t delta(std::uint64_t now, std::uint64_t before) noexcept {
  return static_cast<std::int64_t>(now - before);
}

using v2_tagged::append_key;
void append_tagged(std::string& out, std::uint32_t field, std::int64_t v) {
  v2_tagged::append_signed(out, field, v);
}
void append_tagged_unsigned(std::string& out, std::uint32_t field, std::uint64_t v) {
  v2_tagged::append_unsigned(out, field, v);
}
void append_bytes(std::string& out, std::string_view s) {
  append(out, s.size());
  out += s;
}
// Strings are stored as valid UTF-8, as v1 stores them, so both formats read back the same.
void append_text(std::string& out, std::string_view s) {
  append_bytes(out, sanitize_utf8(s));
}
void append_tagged_text(std::string& out, std::uint32_t field, std::string_view s) {
  append_key(out, field, v2::wire::bytes);
  append_text(out, s);
}

struct cctx_deleter {
  void operator()(ZSTD_CCtx* c) const noexcept { ZSTD_freeCCtx(c); }
};

struct label_set_hash {
  std::size_t operator()(const label_set& s) const noexcept {
    std::size_t h = s.size();
    for (const auto& [k, v] : s) {
      h = h * 31 + std::hash<std::string>{}(k);
      h = h * 31 + std::hash<std::string>{}(v);
    }
    return h;
  }
};

// One goroutine as the previous sample left it.
struct goroutine_state_v2 {
  std::uint64_t id = 0;
  std::uint64_t parent = 0;
  std::uint32_t site = 0;
  std::uint32_t stack = 0;
  std::uint64_t state_code = 0;  // reason << 2 | state
  std::int64_t created_ns = 0;
  std::int64_t wait_ns = 0;
  std::uint64_t labels = 0;  // 0: none, i + 1: label set i
  label_ptr label_object;    // held so that pointer equality means the same label set
  std::uint64_t resumes = 0;
  std::int64_t running_ns = 0;
  std::int64_t runnable_ns = 0;
  std::uint64_t blocked_on = 0;  // extension field
  // The sample these values are from: a delta (append_delta) leaves unchanged goroutines as
  // they were, so the wait the reader predicts grows from here.
  std::int64_t t_ns = 0;
  bool gone = false;  // exited in a delta; removed by compact()
};

constexpr std::uint64_t waiting_code = static_cast<std::uint64_t>(goroutine_state::waiting);

// What the reader expects wait_ns to be without being told: a goroutine still waiting has
// waited the time between the samples longer.
std::int64_t predicted_wait(const goroutine_state_v2& base, std::uint64_t new_state_code,
                            std::int64_t dt) noexcept {
  if ((new_state_code & 3) != waiting_code || (base.state_code & 3) != waiting_code) return 0;
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(base.wait_ns) +
                                   static_cast<std::uint64_t>(dt));
}

void check_objects(const std::vector<wait_object>& objects, const symbol_tables& tables) {
  for (std::size_t i = 0; i < objects.size(); ++i) {
    if (objects[i].kind == wait_object_kind::none ||
        (i > 0 && objects[i - 1].id >= objects[i].id) ||
        objects[i].locked_at > tables.frames.size()) {
      throw std::logic_error(
          "v2_encoder: wait objects not sorted by id, not unique, of no kind or refer to an "
          "undefined frame");
    }
  }
}

}  // namespace

struct v2_encoder::state {
  v2_options options;
  std::unique_ptr<ZSTD_CCtx, cctx_deleter> cctx;
  std::string payload, compressed, records, exits, strings_part, rest_part, extension, objects;

  // Interned strings and label sets, and how much of the caller's tables was written.
  std::unordered_map<std::string, std::uint32_t> strings;
  std::uint32_t string_count = 0;
  std::uint32_t pending_strings = 0;
  std::unordered_map<label_set, std::uint32_t, label_set_hash> label_sets;
  std::vector<const label_set*> pending_label_sets;
  struct {
    std::uint32_t sites = 0, frames = 0, stacks = 0;
  } written;

  std::vector<goroutine_state_v2> previous, next;
  std::vector<wait_object> previous_objects;  // the previous sample's wait-for graph
  std::int64_t previous_t_ns = 0;
  bool have_previous = false;
  std::uint64_t samples_since_keyframe = 0;
  std::int64_t keyframe_t_ns = 0;
  v2_encoder_stats stats;

  std::uint32_t intern_string(const std::string& s) {
    auto [it, inserted] = strings.try_emplace(s, string_count);
    if (inserted) {
      ++string_count;
      ++pending_strings;
      append_text(strings_part, s);
    }
    return it->second;
  }

  std::uint64_t label_id(const label_ptr& p, const goroutine_state_v2* base) {
    if (!p || p->empty()) return 0;
    if (base && base->label_object.get() == p.get()) return base->labels;
    auto [it, inserted] = label_sets.try_emplace(*p, static_cast<std::uint32_t>(label_sets.size()));
    if (inserted) pending_label_sets.push_back(&it->first);
    return std::uint64_t{it->second} + 1;
  }

  void append_block(std::string& out, v2::block_type type, std::string_view body,
                    bool compress = true) {
    std::uint8_t flags = 0;
    if (compress && options.zstd_level > 0 && body.size() >= options.compress_min_bytes) {
      if (!cctx) cctx.reset(ZSTD_createCCtx());
      compressed.clear();
      append(compressed, body.size());
      const std::size_t head = compressed.size();
      compressed.resize(head + ZSTD_compressBound(body.size()));
      const std::size_t n =
          cctx ? ZSTD_compressCCtx(cctx.get(), compressed.data() + head, compressed.size() - head,
                                   body.data(), body.size(), options.zstd_level)
               : 0;
      if (cctx && !ZSTD_isError(n) && head + n < body.size() &&
          v2::zstd_size_allowed(body.size(), n)) {
        compressed.resize(head + n);
        body = compressed;
        flags |= v2::block_flag::zstd;
      }
    }
    if (body.size() > v2::max_block_bytes) {
      throw std::length_error("recording block of " + std::to_string(body.size()) +
                              " bytes is over the format's limit");
    }
    v2_blocks::append(out, static_cast<std::uint8_t>(type), flags, body);
  }

  void append_location(const code_location& l) {
    append(rest_part, intern_string(l.function));
    append(rest_part, intern_string(l.file));
    append(rest_part, l.line);
    append(rest_part, l.pc);
  }

  // The tables block for everything new: the caller's entries past `written`, and the label
  // sets the sample just interned.
  void append_tables(std::string& out, const symbol_tables& t) {
    strings_part.clear();
    rest_part.clear();
    pending_strings = 0;
    append(rest_part, t.sites.size() - written.sites);
    for (auto i = written.sites; i < t.sites.size(); ++i) append_location(t.sites[i]);
    append(rest_part, t.frames.size() - written.frames);
    for (auto i = written.frames; i < t.frames.size(); ++i) append_location(t.frames[i]);
    append(rest_part, t.stacks.size() - written.stacks);
    for (auto i = written.stacks; i < t.stacks.size(); ++i) {
      append(rest_part, t.stacks[i].size());
      for (auto f : t.stacks[i]) append(rest_part, f);
    }
    append(rest_part, pending_label_sets.size());
    for (const label_set* set : pending_label_sets) {
      append(rest_part, set->size());
      for (const auto& [k, v] : *set) {
        append(rest_part, intern_string(k));
        append(rest_part, intern_string(v));
      }
    }
    const bool any = pending_strings > 0 || !pending_label_sets.empty() ||
                     written.sites < t.sites.size() || written.frames < t.frames.size() ||
                     written.stacks < t.stacks.size();
    pending_label_sets.clear();
    written.sites = static_cast<std::uint32_t>(t.sites.size());
    written.frames = static_cast<std::uint32_t>(t.frames.size());
    written.stacks = static_cast<std::uint32_t>(t.stacks.size());
    if (!any) return;
    payload.clear();
    append(payload, pending_strings);
    payload += strings_part;
    payload += rest_part;
    append_block(out, v2::block_type::tables, payload);
  }

  // g's values as the goroutine's new state in `now`, as of `t_ns`; `base` is its previous
  // state (null for a new goroutine), whose label set `now` takes over.
  void to_state(const goroutine_sample& g, goroutine_state_v2* base, std::int64_t t_ns,
                goroutine_state_v2& now) {
    now.id = g.id;
    now.parent = g.parent_id;
    now.site = g.site;
    now.stack = g.stack;
    now.state_code =
        static_cast<std::uint64_t>(g.reason) << 2 | static_cast<std::uint64_t>(g.state);
    now.created_ns = g.created_ns;
    now.wait_ns = g.wait_ns;
    now.labels = label_id(g.labels, base);
    if (now.labels == 0) {
      now.label_object.reset();
    } else if (base && base->label_object.get() == g.labels.get()) {
      now.label_object = std::move(base->label_object);  // no reference count traffic
    } else {
      now.label_object = g.labels;
    }
    now.resumes = g.resumes;
    now.running_ns = g.running_ns;
    now.runnable_ns = g.runnable_ns;
    now.blocked_on = g.blocked_on;
    now.t_ns = t_ns;
    now.gone = false;
  }

  // Appends the record of `now` against `base` (its previous state, or null for a new
  // goroutine) to `records` if anything differs.
  bool append_record(const goroutine_state_v2& now, const goroutine_state_v2* base,
                     std::uint64_t previous_id) {
    blank.created_ns = now.t_ns;
    const goroutine_state_v2& b = base ? *base : blank;
    const std::int64_t want_wait =
        predicted_wait(b, now.state_code, base ? delta(now.t_ns, base->t_ns) : 0);
    std::uint64_t mask = base ? 0 : bit::created;
    if (now.state_code != b.state_code) mask |= bit::state;
    if (now.stack != b.stack) mask |= bit::stack;
    if (now.wait_ns != want_wait) mask |= bit::wait_ns;
    if (now.resumes != b.resumes) mask |= bit::resumes;
    if (now.running_ns != b.running_ns) mask |= bit::running_ns;
    if (now.runnable_ns != b.runnable_ns) mask |= bit::runnable_ns;
    if (now.labels != b.labels) mask |= bit::labels;
    if (now.site != b.site) mask |= bit::site;
    if (now.parent != b.parent) mask |= bit::parent;
    if (now.created_ns != b.created_ns) mask |= bit::created_ns;
    if (now.blocked_on != b.blocked_on) mask |= bit::extension;
    if (mask == 0) return false;

    // The fixed fields into one buffer, appended at once (one append per record, not per field).
    char buf[12 * varint::max_bytes];
    std::size_t n = 0;
    auto put = [&](std::uint64_t v) { n += varint::encode(buf + n, v); };
    // A field's value v, or with sample_flag::columns its difference from the column's last.
    auto put_field = [&](std::uint64_t field, std::int64_t& last, std::int64_t v) {
      if (columns & field) {
        put(varint::zigzag(delta(v, last)));
        last = v;
      } else {
        put(varint::zigzag(v));
      }
    };
    put(now.id - previous_id);
    put(mask);
    if (mask & bit::state) put(now.state_code);
    if (mask & bit::stack) put(now.stack);
    if (mask & bit::wait_ns) put_field(bit::wait_ns, column.wait, delta(now.wait_ns, want_wait));
    if (mask & bit::resumes) put_field(bit::resumes, column.resumes, delta(now.resumes, b.resumes));
    if (mask & bit::running_ns)
      put_field(bit::running_ns, column.running, delta(now.running_ns, b.running_ns));
    if (mask & bit::runnable_ns)
      put_field(bit::runnable_ns, column.runnable, delta(now.runnable_ns, b.runnable_ns));
    if (mask & bit::labels) put(now.labels);
    if (mask & bit::site) put(now.site);
    if (mask & bit::parent) put_field(bit::parent, column.parent, delta(now.parent, b.parent));
    if (mask & bit::created_ns)
      put_field(bit::created_ns, column.created, delta(now.created_ns, b.created_ns));
    records.append(buf, n);
    if (mask & bit::extension) {
      extension.clear();
      append_tagged_unsigned(extension, v2::goroutine_field::blocked_on, now.blocked_on);
      append_bytes(records, extension);
    }
    return true;
  }

  bool keyframe_due(std::int64_t t_ns) const noexcept {
    return !have_previous || samples_since_keyframe >= options.keyframe_samples ||
           (options.keyframe_ns > 0 && delta(t_ns, keyframe_t_ns) >= options.keyframe_ns);
  }

  // Removes the goroutines deltas marked gone (the full path merges without looking for them).
  void compact() {
    if (gone_count == 0) return;
    std::erase_if(previous, [](const goroutine_state_v2& g) { return g.gone; });
    gone_count = 0;
  }

  // The previous state of goroutine `id`, for ids looked up in increasing order: `from` is
  // where the previous lookup ended.
  goroutine_state_v2* find_previous(std::uint64_t id, std::size_t& from) noexcept {
    auto it = detail::gallop_lower_bound(
        previous.begin() + static_cast<std::ptrdiff_t>(from), previous.end(), id,
        [](const goroutine_state_v2& g, std::uint64_t v) { return g.id < v; });
    from = static_cast<std::size_t>(it - previous.begin());
    return it != previous.end() && it->id == id && !it->gone ? &*it : nullptr;
  }

  // The sample block: header fields, exits and records as built in `exits` and `records`.
  void append_sample_block(std::string& out, bool keyframe, std::uint64_t seq, std::int64_t t_ns,
                           std::int64_t duration_ns, std::int64_t pause_ns,
                           std::uint64_t goroutines, std::uint64_t n_exits, std::uint64_t n_records,
                           std::string_view trailer) {
    payload.clear();
    append(payload, (keyframe ? v2::sample_flag::keyframe : 0) |
                        (columns != 0 ? v2::sample_flag::columns : 0));
    append(payload, seq);
    append_signed(payload, t_ns);
    append_signed(payload, duration_ns);
    append_signed(payload, pause_ns);
    append(payload, goroutines);
    append(payload, n_exits);
    payload += exits;
    append(payload, n_records);
    payload += records;
    payload += trailer;  // tagged fields (the graph's changes), if any
    append_block(out, v2::block_type::sample, payload, keyframe || options.compress_deltas);
  }

  // The sample's trailing tagged fields into `trailer`: the graph's changes since the previous
  // sample, when there are any, the later kinds apart (sample_field::more_objects).
  void append_graph_changes(const std::vector<wait_object>& now) {
    trailer.clear();
    for (const bool apart : {false, true}) {
      objects.clear();
      if (v2_wait_objects::append_changes(objects, previous_objects, now, apart)) {
        v2_tagged::append_bytes(
            trailer, apart ? v2::sample_field::more_objects : v2::sample_field::objects, objects);
      }
    }
  }

  struct applied {
    std::uint64_t exits = 0, records = 0;
  };
  // Brings `previous` up to date with `d` (v2_encoder::append_delta), in work proportional to
  // d's size: each id by galloping search, updated in place (exits are marked gone and
  // squeezed out now and then). With `emit`, the exits and records go into `exits` and
  // `records`. Exits of ids not held are dropped (the runtime may name a goroutine the
  // recording never had).
  applied apply(const sample_delta& d, bool emit) {
    start_records();
    exits.clear();
    applied n;
    std::uint64_t last_record_id = 0, last_exit_id = 0;
    std::size_t from = 0;  // both lists are sorted: each lookup starts where the last ended
    for (const std::uint64_t id : d.exited) {
      goroutine_state_v2* e = find_previous(id, from);
      if (!e) continue;
      e->gone = true;
      e->label_object.reset();
      ++gone_count;
      if (emit) append(exits, id - last_exit_id);
      last_exit_id = id;
      ++n.exits;
    }
    inserted.clear();
    goroutine_state_v2 now;
    auto put = [&](goroutine_state_v2* base) {
      if (emit && append_record(now, base, last_record_id)) {
        last_record_id = now.id;
        ++n.records;
      }
      if (base) {
        *base = std::move(now);
      } else if (previous.empty() || previous.back().id < now.id) {
        previous.push_back(std::move(now));
      } else {
        inserted.push_back(std::move(now));
      }
    };
    // A goroutine that did not change but whose blocked_on did (a delta with the graph).
    auto moved = [&](const sample_delta::wait_edge& e) {
      goroutine_state_v2* base = find_previous(e.id, from);
      if (!base || base->blocked_on == e.blocked_on) return;
      now = *base;
      if ((base->state_code & 3) == waiting_code) {
        now.wait_ns = predicted_wait(*base, base->state_code, delta(d.time_ns, base->t_ns));
      }
      now.t_ns = d.time_ns;
      now.blocked_on = e.blocked_on;
      put(base);
    };
    from = 0;
    std::size_t w = 0;
    for (const auto& g : d.changed) {
      for (; w < d.waits.size() && d.waits[w].id < g.id; ++w) moved(d.waits[w]);
      if (w < d.waits.size() && d.waits[w].id == g.id) ++w;  // the change has its blocked_on
      goroutine_state_v2* base = find_previous(g.id, from);
      if (!base && from < previous.size() && previous[from].id == g.id) {
        throw std::logic_error("v2_encoder: goroutine both exited and changed");
      }
      to_state(g, base, d.time_ns, now);
      put(base);
    }
    for (; w < d.waits.size(); ++w) moved(d.waits[w]);
    if (!inserted.empty()) {
      const auto middle = previous.insert(previous.end(), inserted.begin(), inserted.end());
      std::inplace_merge(
          previous.begin(), middle, previous.end(),
          [](const goroutine_state_v2& a, const goroutine_state_v2& b) { return a.id < b.id; });
    }
    if (gone_count > 64 && gone_count * 8 > previous.size()) compact();
    return n;
  }

  // Every goroutine of `previous` as a keyframe's records, waits grown to `d`'s time; returns
  // how many.
  std::uint64_t encode_keyframe(const sample_delta& d) {
    compact();
    start_records();
    exits.clear();
    std::uint64_t last_id = 0;
    for (auto& g : previous) {
      if ((g.state_code & 3) == waiting_code) {
        g.wait_ns = predicted_wait(g, g.state_code, delta(d.time_ns, g.t_ns));
      }
      g.t_ns = d.time_ns;
      append_record(g, nullptr, last_id);
      last_id = g.id;
    }
    return previous.size();
  }

  // The sample block being built: its records start, and with sample_flag::columns every
  // column starts from 0.
  void start_records() noexcept {
    records.clear();
    columns = options.column_coding ? v2::column_fields : 0;
    column = {};
  }

  // The fields coded against the previous record in the block being built (0: none), and
  // each column's last value.
  std::uint64_t columns = 0;
  struct {
    std::int64_t wait = 0, resumes = 0, running = 0, runnable = 0, parent = 0, created = 0;
  } column;
  std::size_t gone_count = 0;
  std::string trailer;
  std::vector<goroutine_state_v2> inserted;  // append_delta: created below the last id
  goroutine_state_v2 blank;                  // a new goroutine's baseline (append_record)
};

v2_encoder::v2_encoder(v2_options options) : st_(std::make_unique<state>()) {
  if (options.keyframe_samples == 0) options.keyframe_samples = 1;
  st_->options = options;
}
v2_encoder::~v2_encoder() = default;
v2_encoder::v2_encoder(v2_encoder&&) noexcept = default;
v2_encoder& v2_encoder::operator=(v2_encoder&&) noexcept = default;

const v2_encoder_stats& v2_encoder::stats() const noexcept {
  return st_->stats;
}

void v2_encoder::append_header(std::string& out, const recording_header& h) {
  namespace f = v2::header_field;
  v2_blocks::append_preamble(out);
  std::string& p = st_->payload;
  p.clear();
  append_tagged_text(p, f::workload, h.workload);
  for (const auto& arg : h.command_line) append_tagged_text(p, f::command, arg);
  append_tagged(p, f::pid, h.pid);
  append_tagged(p, f::interval_ns, h.interval_ns);
  append_tagged_text(p, f::start, h.start_wall);
  append_tagged(p, f::start_unix_ns, h.start_unix_ns);
  append_tagged(p, f::start_monotonic_ns, h.start_monotonic_ns);
  append_tagged(p, f::workers, h.workers);
  append_tagged_text(p, f::runtime, h.runtime_version);
  st_->append_block(out, v2::block_type::header, p);
}

void v2_encoder::append_sample(std::string& out, const sample& s, const symbol_tables& tables) {
  state& st = *st_;
  for (std::size_t i = 0; i < s.goroutines.size(); ++i) {
    const auto& g = s.goroutines[i];
    if (g.site >= tables.sites.size() || g.stack >= tables.stacks.size()) {
      throw std::logic_error("v2_encoder: sample refers to an undefined site or stack");
    }
    if (i > 0 && s.goroutines[i - 1].id >= g.id) {
      throw std::logic_error("v2_encoder: goroutines not sorted by id or not unique");
    }
  }
  check_objects(s.objects, tables);
  const bool keyframe = st.keyframe_due(s.time_ns);
  st.compact();
  if (keyframe) {
    st.previous.clear();
    st.previous_objects.clear();
    st.samples_since_keyframe = 0;
    st.keyframe_t_ns = s.time_ns;
    ++st.stats.keyframes;
  }
  // Merge the previous goroutines with this sample's, both sorted by id.
  st.start_records();
  st.exits.clear();
  st.next.resize(s.goroutines.size());
  std::uint64_t n_records = 0, n_exits = 0, last_record_id = 0, last_exit_id = 0;
  std::size_t p = 0;
  for (std::size_t i = 0; i < s.goroutines.size(); ++i) {
    const auto& g = s.goroutines[i];
    while (p < st.previous.size() && st.previous[p].id < g.id) {
      append(st.exits, st.previous[p].id - last_exit_id);
      last_exit_id = st.previous[p++].id;
      ++n_exits;
    }
    goroutine_state_v2* base =
        p < st.previous.size() && st.previous[p].id == g.id ? &st.previous[p++] : nullptr;
    goroutine_state_v2& now = st.next[i];
    st.to_state(g, base, s.time_ns, now);
    if (st.append_record(now, base, last_record_id)) {
      last_record_id = g.id;
      ++n_records;
    }
  }
  for (; p < st.previous.size(); ++p) {
    append(st.exits, st.previous[p].id - last_exit_id);
    last_exit_id = st.previous[p].id;
    ++n_exits;
  }

  st.append_tables(out, tables);
  st.append_graph_changes(s.objects);
  st.append_sample_block(out, keyframe, s.seq, s.time_ns, s.duration_ns, s.pause_ns,
                         s.goroutines.size(), n_exits, n_records, st.trailer);

  st.previous.swap(st.next);
  // Not kept for the next full sample: between full samples (every graph refresh or keyframe
  // at most) it would hold a second copy of every goroutine, 120 B each, and their label sets.
  std::vector<goroutine_state_v2>().swap(st.next);
  st.previous_objects = s.objects;
  st.previous_t_ns = s.time_ns;
  st.have_previous = true;
  ++st.samples_since_keyframe;
  st.stats.goroutine_records += n_records;
  st.stats.goroutine_samples += s.goroutines.size();
}

bool v2_encoder::wants_keyframe(std::int64_t time_ns) const noexcept {
  return st_->keyframe_due(time_ns);
}

void v2_encoder::append_delta(std::string& out, const sample_delta& d,
                              const symbol_tables& tables) {
  state& st = *st_;
  for (std::size_t i = 0; i < d.changed.size(); ++i) {
    const auto& g = d.changed[i];
    if (g.site >= tables.sites.size() || g.stack >= tables.stacks.size()) {
      throw std::logic_error("v2_encoder: sample refers to an undefined site or stack");
    }
    if (i > 0 && d.changed[i - 1].id >= g.id) {
      throw std::logic_error("v2_encoder: goroutines not sorted by id or not unique");
    }
  }
  for (std::size_t i = 1; i < d.exited.size(); ++i) {
    if (d.exited[i - 1] > d.exited[i]) throw std::logic_error("v2_encoder: exits not sorted");
  }
  for (std::size_t i = 1; i < d.waits.size(); ++i) {
    if (d.waits[i - 1].id >= d.waits[i].id) {
      throw std::logic_error("v2_encoder: wait edges not sorted by id or not unique");
    }
  }
  if (d.graph) check_objects(d.objects, tables);
  // A keyframe due is made from the state the delta leaves, so the caller keeps no copy of
  // the sample; the delta's own records are then not encoded.
  const bool keyframe = st.keyframe_due(d.time_ns);
  const auto [n_exits, n_delta_records] = st.apply(d, !keyframe);
  std::uint64_t n_records = n_delta_records;
  if (keyframe) n_records = st.encode_keyframe(d);

  st.append_tables(out, tables);
  st.trailer.clear();  // without a graph none: the wait-for graph is as in the previous sample
  if (keyframe) {
    // The graph from nothing: the delta's, or the one the previous samples left.
    std::vector<wait_object> graph = d.graph ? d.objects : std::move(st.previous_objects);
    st.previous_objects.clear();
    st.append_graph_changes(graph);
    st.previous_objects = std::move(graph);
    st.samples_since_keyframe = 0;
    st.keyframe_t_ns = d.time_ns;
    ++st.stats.keyframes;
  } else if (d.graph) {
    st.append_graph_changes(d.objects);
    st.previous_objects = d.objects;
  }
  const std::uint64_t goroutines = st.previous.size() - st.gone_count;
  st.append_sample_block(out, keyframe, d.seq, d.time_ns, d.duration_ns, d.pause_ns, goroutines,
                         keyframe ? 0 : n_exits, n_records, st.trailer);
  st.previous_t_ns = d.time_ns;
  st.have_previous = true;
  ++st.samples_since_keyframe;
  st.stats.goroutine_records += n_records;
  st.stats.goroutine_samples += goroutines;
}

std::uint64_t v2_encoder::goroutines() const noexcept {
  return st_->previous.size() - st_->gone_count;
}

void v2_encoder::append_end(std::string& out, const recording_end& e) {
  namespace f = v2::end_field;
  std::string p;
  append_tagged_unsigned(p, f::samples, e.samples);
  append_tagged_unsigned(p, f::reason, static_cast<std::uint64_t>(e.reason));
  if (e.exit_status) append_tagged(p, f::exit_status, *e.exit_status);
  if (e.signal) append_tagged(p, f::signal, *e.signal);
  state raw;  // never compressed: an end block is a few bytes
  raw.options.zstd_level = 0;
  raw.append_block(out, v2::block_type::end, p);
}

}  // namespace gprofid
