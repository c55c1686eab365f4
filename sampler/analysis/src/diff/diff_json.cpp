#include "gprofid/analysis/diff_json.hpp"

#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "summary_json.hpp"

namespace gprofid {
namespace {
using json = nlohmann::ordered_json;
}  // namespace

json pair_to_json(const pair_diff& d, const symbol_tables& t) {
  // The streamed text, parsed: one renderer for both, as for the summary below.
  std::ostringstream text;
  write_pair_json(text, d, t);
  return json::parse(text.str());
}

json summary_to_json(const diff_summary& s, const symbol_tables& t) {
  // The streamed text, parsed: one renderer for both (tests and fuzzing compare documents).
  std::string text = "{\"type\":\"summary\",\"goroutines\":[";
  summary_json::site_cache sites;
  bool first = true;
  for (const auto& l : s.goroutines) {
    if (!first) text += ',';
    first = false;
    summary_json::append_lifecycle(text, l, false, s.followed, t, sites);
  }
  text += ']';
  summary_json::append_rest(text, s, t, sites);
  text += '}';
  return json::parse(text);
}

diff_json_writer::diff_json_writer(std::ostream& out, bool lines,
                                   const std::vector<diff_input>& inputs)
    : out_(out), lines_(lines), sites_(std::make_unique<summary_json::site_cache>()) {
  json in = json::array();
  for (const auto& i : inputs) {
    in.push_back(
        {{"path", i.path}, {"pid", i.pid}, {"start_wall", i.start_wall}, {"workload", i.workload}});
  }
  json head = {{"format", diff_format::name}, {"version", diff_format::version}, {"inputs", in}};
  if (lines_) {
    json h = {{"type", "header"}};
    h.update(head);
    head_ = h.dump(-1, ' ', false, json::error_handler_t::replace) + '\n';
  } else {
    head_ = head.dump(-1, ' ', false, json::error_handler_t::replace);
    head_.pop_back();  // reopen the object to stream "pairs" into it
    head_ += ",\"pairs\":[";
  }
}

// The head goes out with the first thing after it, so that a diff that fails before it has
// anything to say (a recording without samples) writes nothing but its error.
void diff_json_writer::open() {
  if (head_written_) return;
  head_written_ = true;
  out_ << head_;
  head_ = {};
}

void diff_json_writer::pair(const pair_diff& d, const symbol_tables& tables) {
  open();
  if (!lines_ && any_pair_) out_ << ',';
  if (!lines_) out_ << '\n';
  write_pair_json(out_, d, tables);
  if (lines_) out_ << '\n';
  any_pair_ = true;
}

diff_json_writer::~diff_json_writer() = default;

void diff_json_writer::begin_summary() {
  summary_streams_ = true;
}

void diff_json_writer::open_summary() {
  if (summary_open_) return;
  open();
  if (!lines_) out_ << "\n],\"summary\":";
  out_ << "{\"type\":\"summary\",\"goroutines\":[";
  summary_open_ = true;
}

void diff_json_writer::summary_goroutine(const goroutine_lifecycle& l, bool followed,
                                         const symbol_tables& tables) {
  if (any_goroutine_) buffer_ += ',';
  any_goroutine_ = true;
  summary_json::append_lifecycle(buffer_, l, false, followed, tables, *sites_);
  if (buffer_.size() >= 64 * 1024) flush_goroutines();
}

void diff_json_writer::flush_goroutines() {
  if (summary_streams_) open_summary();
  if (summary_open_) {
    out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
  } else {
    // Pairs are still being written: the lifecycles wait on disk, not in memory.
    if (!spill_) spill_.reset(std::tmpfile());
    if (!spill_ || std::fwrite(buffer_.data(), 1, buffer_.size(), spill_.get()) != buffer_.size()) {
      throw std::runtime_error("cannot write the summary's temporary file");
    }
  }
  buffer_.clear();
}

void diff_json_writer::summary(const diff_summary& s, const symbol_tables& tables) {
  if (!summary_open_ && !summary_streams_) {
    flush_goroutines();
    open_summary();
    if (spill_) {
      std::rewind(spill_.get());
      char chunk[64 * 1024];
      while (std::size_t n = std::fread(chunk, 1, sizeof chunk, spill_.get())) {
        out_.write(chunk, static_cast<std::streamsize>(n));
      }
      if (std::ferror(spill_.get())) {
        throw std::runtime_error("cannot read the summary's temporary file");
      }
      spill_.reset();
    }
  }
  for (const auto& l : s.goroutines) summary_goroutine(l, s.followed, tables);
  buffer_ += ']';
  summary_json::append_rest(buffer_, s, tables, *sites_);
  buffer_ += "}\n";
  flush_goroutines();
  summary_done_ = true;
}

void diff_json_writer::finish() {
  if (finished_) return;
  finished_ = true;
  open();
  if (lines_) return;
  if (!summary_done_) out_ << "\n],\"summary\":null";
  out_ << "}\n";
  out_.flush();
}

}  // namespace gprofid
