// `gprof-id diff`: joins samples by goroutine id and reports what changed, pair by pair, then
// over the whole recording. Streams: holds at most two samples at a time.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/diagnostics.hpp"
#include "cli/duration.hpp"
#include "cli/exit_status.hpp"
#include "cli/number_option.hpp"
#include "cli/recording_input.hpp"
#include "cli/sample_range.hpp"
#include "cli/standard_input.hpp"
#include "gprofid/analysis/diff.hpp"
#include "gprofid/analysis/diff_json.hpp"
#include "gprofid/analysis/diff_summary.hpp"
#include "gprofid/analysis/diff_text.hpp"
#include "gprofid/analysis/pprof_reader.hpp"
#include "gprofid/analysis/recording_reader.hpp"
#include "gprofid/saturating.hpp"

namespace gprofid::cli {
namespace {

struct diff_options {
  std::vector<std::string> inputs;
  std::int64_t from = 0;
  std::int64_t to = -1;
  std::string format;  // "" : text on a terminal, json otherwise
  bool summary_only = false;
  std::string color = "auto";
  std::size_t limit = 50;
  std::vector<std::uint64_t> ids;
  std::vector<std::string> labels;
  std::string site;
  std::string state;
  std::string min_stuck;
};

// Writes each pair as it is computed, then the summary.
class diff_output {
 public:
  diff_output(const diff_options& o, const std::vector<diff_input>& inputs) {
    text_.max_rows = o.limit;
    const bool tty = isatty(STDOUT_FILENO) != 0;
    format_ = o.format.empty() ? (tty ? "text" : "json") : o.format;
    const char* term = std::getenv("TERM");
    text_.color = o.color == "always" || (o.color == "auto" && tty && !std::getenv("NO_COLOR") &&
                                          !(term && std::string(term) == "dumb"));
    if (format_ != "text") json_.emplace(std::cout, format_ == "jsonl", inputs);
  }
  void pair(const pair_diff& d, const symbol_tables& t) {
    if (json_) {
      json_->pair(d, t);
    } else {
      write_pair_text(std::cout, d, t, text_);
    }
  }
  // A summary builder for this output: JSON streams every lifecycle out as it becomes final
  // (`no_more_pairs`: at once, else after the pairs), text keeps only the rows it prints.
  summary_builder builder(goroutine_filter filter, bool no_more_pairs) {
    summary_options options;
    options.keep_goroutines = json_                 ? 0
                              : text_.max_rows == 0 ? std::numeric_limits<std::size_t>::max()
                                                    : text_.max_rows;
    summary_builder b(std::move(filter), options);
    if (json_) {
      if (no_more_pairs) json_->begin_summary();
      b.stream_goroutines(
          [this](const goroutine_lifecycle& l, bool followed, const symbol_tables& t) {
            json_->summary_goroutine(l, followed, t);
          });
    }
    return b;
  }
  void summary(const diff_summary& s, const symbol_tables& t) {
    if (json_) {
      json_->summary(s, t);
      json_->finish();
    } else {
      write_summary_text(std::cout, s, t, text_);
    }
    std::cout.flush();
  }

 private:
  std::string format_;
  text_options text_;
  std::optional<diff_json_writer> json_;
};

goroutine_filter make_filter(const diff_options& o) {
  goroutine_filter f;
  f.ids = o.ids;
  for (const auto& kv : o.labels) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw std::invalid_argument("--label wants key=value, got \"" + kv + "\"");
    }
    f.labels.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  f.site = o.site;
  if (!o.state.empty() && !f.set_state(o.state)) {
    throw std::invalid_argument("--state: unknown state \"" + o.state +
                                "\" (running, runnable, waiting, or a wait reason such as "
                                "\"chan receive\", mutex, sleep)");
  }
  try {
    if (!o.min_stuck.empty()) f.min_stuck_ns = parse_duration(o.min_stuck);
  } catch (const duration_error& e) {
    throw std::invalid_argument(std::string("--min-stuck: ") + e.what());
  }
  return f;
}

diff_input input_of(const std::string& path, const recording_header& h) {
  return {path, h.pid, h.start_wall, h.workload};
}

int diff_one(const diff_options& o, goroutine_filter filter) {
  recording_arg arg = parse_recording_arg(o.inputs[0]);
  sample_range_reader reader(arg.path, o.from, o.to);
  diff_output out(o, {input_of(arg.path, reader.header())});
  diff_engine engine(filter);
  summary_builder summary = out.builder(std::move(filter), o.summary_only);
  if (o.summary_only && reader.streams_changes()) {
    // The summary alone follows what changed: unchanged goroutines cost nothing, and a whole
    // sample is made only when the wait-for graph needs it.
    sample_changes changes;
    // A first sample of many goroutines comes in pieces: never all of them copied at once.
    reader.set_piece_size(4096);
    const auto whole = [&reader](sample& s) { reader.current(s); };
    while (reader.next_changes(changes)) summary.add(changes, reader.tables(), whole);
  } else {
    sample prev, cur;
    bool have_prev = false;
    while (reader.next(cur)) {
      summary.add(cur, reader.tables());
      if (have_prev && !o.summary_only)
        out.pair(engine.next(prev, cur, reader.tables()), reader.tables());
      std::swap(prev, cur);
      have_prev = true;
    }
  }
  print_warnings(reader.warnings());
  out.summary(summary.finish(), reader.tables());
  return exit_ok;
}

// Whether two arguments name one file (the same path, or the same inode by another name).
bool same_file(const std::string& a, const std::string& b) {
  if (a == b) return true;
  struct stat sa {
  }, sb{};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

void drop_never_yielded(pair_diff& d, diff_summary& s) {
  d.never_yielded.clear();
  d.counts.never_yielded = 0;
  s.never_yielded.clear();
  s.omitted.never_yielded = 0;
  std::erase_if(s.warnings, [](const summary_warning& w) {
    return w.what == summary_warning::kind::never_yielded;
  });
}

// Two goroutine profiles a gprof-id program served (scraped at two times, docs/fleet.md) as the
// samples of one recording: joinable when they come from one process, which a profile tells by
// its program and by its time less the sample's (the process's start).
std::optional<int> pick_pprof_pair(const recording_arg& a, const recording_arg& b,
                                   picked_sample& pa, picked_sample& pb) {
  const bool pprof_a = looks_like_pprof(a.path), pprof_b = looks_like_pprof(b.path);
  if (!pprof_a && !pprof_b) return std::nullopt;
  if (pprof_a != pprof_b) {
    print_error("%s is a pprof profile and %s is not: diff two profiles or two recordings",
                (pprof_a ? a : b).path.c_str(), (pprof_a ? b : a).path.c_str());
    return exit_usage;
  }
  if (a.index || b.index) {
    print_error("a pprof profile holds one sample: drop the @N");
    return exit_usage;
  }
  pprof_goroutines x = read_pprof_goroutines(a.path), y = read_pprof_goroutines(b.path);
  // Each profile dates the start from the wall clock when it was taken, so two of one process
  // differ by the clocks' jitter (microseconds) or a step of the wall clock in between.
  constexpr std::int64_t same_start_ns = 1'000'000'000;
  const std::int64_t apart = saturating_sub(x.header.start_unix_ns, y.header.start_unix_ns);
  if (x.program != y.program || apart > same_start_ns || apart < -same_start_ns) {
    print_error(
        "%s and %s are profiles of different processes (%s started at %lld ns, %s at %lld ns "
        "since the epoch): goroutine ids cannot be joined",
        a.path.c_str(), b.path.c_str(), x.program.c_str(),
        static_cast<long long>(x.header.start_unix_ns), y.program.c_str(),
        static_cast<long long>(y.header.start_unix_ns));
    return exit_bad_input;
  }
  if (x.header.start_unix_ns == 0) {
    print_warning("the profiles have no time: cannot tell whether they are of one process");
  }
  // One start in both headers, as diff_two then checks. The samples' times are the runtime's
  // (monotonic, from its start) and stay as they are: waits continue by them exactly.
  y.header.start_unix_ns = x.header.start_unix_ns;
  pa = {std::move(x.header), std::move(x.tables), std::move(x.s), 1};
  pb = {std::move(y.header), std::move(y.tables), std::move(y.s), 1};
  return std::nullopt;
}

int diff_two(const diff_options& o, goroutine_filter filter) {
  recording_arg a = parse_recording_arg(o.inputs[0]);
  recording_arg b = parse_recording_arg(o.inputs[1]);
  picked_sample pa, pb;
  const bool profiles = looks_like_pprof(a.path) || looks_like_pprof(b.path);
  if (profiles) {
    if (auto status = pick_pprof_pair(a, b, pa, pb)) return *status;
  } else if (same_file(a.path, b.path)) {
    // One pass: a FIFO (or stdin) opened twice would wait forever for a second writer.
    picked_samples both = pick_samples(a.path, {a.index.value_or(-1), b.index.value_or(0)});
    pa = {both.header, both.tables, std::move(both.samples[0]), both.count};
    pb = {std::move(both.header), std::move(both.tables), std::move(both.samples[1]), both.count};
  } else {
    pa = pick_sample(a.path, a.index.value_or(-1));
    pb = pick_sample(b.path, b.index.value_or(0));
  }
  const auto& ha = pa.header;
  const auto& hb = pb.header;
  if (ha.pid != hb.pid || ha.start_unix_ns != hb.start_unix_ns) {
    print_error(
        "%s and %s are recordings of different processes (pid %lld started %s, pid %lld started "
        "%s): goroutine ids cannot be joined",
        recording_name(a.path).c_str(), recording_name(b.path).c_str(),
        static_cast<long long>(ha.pid), ha.start_wall.c_str(), static_cast<long long>(hb.pid),
        hb.start_wall.c_str());
    return exit_bad_input;
  }
  symbol_tables tables = std::move(pa.tables);
  sample later = import_sample(pb.s, pb.tables, tables);
  if (later.time_ns < pa.s.time_ns) {
    print_warning("the second sample is older than the first");
  }
  diff_output out(o, {input_of(a.path, ha), input_of(b.path, hb)});
  diff_engine engine(filter);
  pair_diff d = engine.next(pa.s, later, tables);
  // The pair is written after the summary is built: its lifecycles wait for it (no_more_pairs).
  summary_builder summary = out.builder(std::move(filter), o.summary_only);
  summary.add(pa.s, tables);
  summary.add(later, tables);
  diff_summary s = summary.finish();
  // A profile has no resume counter: a goroutine running in both would look as if it never
  // yielded, which the profiles cannot tell.
  if (profiles) drop_never_yielded(d, s);
  if (!o.summary_only) out.pair(d, tables);
  out.summary(s, tables);
  return exit_ok;
}

int run_diff(const diff_options& o) {
  goroutine_filter filter;
  try {
    filter = make_filter(o);
  } catch (const std::invalid_argument& e) {
    print_error("%s", e.what());
    return exit_usage;
  }
  try {
    return with_recording_errors([&]() -> int {
      int status =
          o.inputs.size() == 1 ? diff_one(o, std::move(filter)) : diff_two(o, std::move(filter));
      if (!std::cout) {
        print_error("cannot write the output");
        return exit_io_error;
      }
      return status;
    });
  } catch (const empty_range& e) {
    print_error("%s", e.what());
    return exit_usage;
  }
}

}  // namespace

void add_diff_command(CLI::App& app, command_run& run) {
  auto o = std::make_shared<diff_options>();
  auto* cmd = app.add_subcommand(
      "diff",
      "What changed between samples, joined by goroutine id: REC (every consecutive pair), "
      "A[@N] B[@M] (last sample of A vs first of B by default), or two pprof goroutine profiles "
      "of one gprof-id program (A.pb.gz B.pb.gz, joined by their goid labels)");
  cmd->add_option("recordings", o->inputs, "REC, or A[@N] B[@M]")->required()->expected(1, 2);
  cmd->add_option("--from", o->from, "first sample (negative: from the end)")
      ->check(whole_number_in(-max_sample_index, max_sample_index));
  cmd->add_option("--to", o->to, "last sample (negative: from the end; -1: the last)")
      ->check(whole_number_in(-max_sample_index, max_sample_index));
  cmd->add_option("--format", o->format,
                  "text, json or jsonl (default: text on a terminal, json otherwise)")
      ->check(CLI::IsMember({"text", "json", "jsonl"}));
  cmd->add_flag("--summary", o->summary_only, "only the whole-recording summary");
  cmd->add_option("--color", o->color, "auto, always or never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  cmd->add_option("--limit", o->limit, "rows per text section (0: all)")
      ->check(whole_number_in(0, max_limit));
  cmd->add_option("--id", o->ids, "only these goroutine ids (N[,N...])")
      ->delimiter(',')
      ->check(whole_number_in(1, std::numeric_limits<std::int64_t>::max()));
  cmd->add_option("--label", o->labels,
                  "only goroutines with this label key=value (repeatable); "
                  "the summary then follows them over time");
  cmd->add_option("--site", o->site, "only goroutines whose spawn site contains this text");
  cmd->add_option("--state", o->state, "only goroutines in this state or wait reason");
  cmd->add_option("--min-stuck", o->min_stuck,
                  "only goroutines stuck at least this long (e.g. 2s)");
  cmd->callback([o, &run] { run = [o] { return run_diff(*o); }; });
}

}  // namespace gprofid::cli
