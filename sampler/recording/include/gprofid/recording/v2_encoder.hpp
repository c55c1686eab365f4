// Encodes a recording as format v2 (docs/recording-format.md "Version 2"): it remembers the
// previous sample's goroutines, the interned strings and label sets, so that a sample costs
// what changed since the previous one, and writes a keyframe every K samples or T seconds.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "gprofid/recording/recording_format.hpp"
#include "gprofid/recording/recording_format_v2.hpp"
#include "gprofid/recording/sample.hpp"

namespace gprofid {

struct v2_options {
  std::uint32_t keyframe_samples = recording_format_v2::default_keyframe_samples;  // >= 1
  std::int64_t keyframe_ns = recording_format_v2::default_keyframe_ns;  // <= 0: no time limit
  int zstd_level = 1;                                                   // 0: never compress
  std::size_t compress_min_bytes = recording_format_v2::default_compress_min_bytes;
  // Delta sample blocks are compressed only with this (keyframes, tables and headers always
  // may be): coded against the previous record they take 7.5-12 B per changed goroutine raw,
  // and zstd cost 30-50% of a change's instructions (docs/performance.md, session 7).
  bool compress_deltas = false;
  // Sample flag `columns` (fields coded against the previous record's); false writes sample
  // blocks as the revision before it did, for readers from before it.
  bool column_coding = true;
};

// What the encoder wrote, for benchmarks and tests.
struct v2_encoder_stats {
  std::uint64_t keyframes = 0;
  std::uint64_t goroutine_records = 0;  // created or changed goroutines written
  std::uint64_t goroutine_samples = 0;  // goroutines in all samples
};

class v2_encoder {
 public:
  explicit v2_encoder(v2_options options = {});
  ~v2_encoder();
  v2_encoder(v2_encoder&&) noexcept;
  v2_encoder& operator=(v2_encoder&&) noexcept;

  // Appends the preamble and the header block.
  void append_header(std::string& out, const recording_header& h);
  // Appends a tables block with the entries of `tables` this encoder has not written (if any),
  // then the sample block. The goroutines must be sorted by id, ids unique, and every index
  // below the tables' sizes (std::logic_error otherwise).
  void append_sample(std::string& out, const sample& s, const symbol_tables& tables);
  // Whether a sample at `time_ns` will be a keyframe.
  bool wants_keyframe(std::int64_t time_ns) const noexcept;
  // Appends the sample that is the previous one changed by `d`, in work proportional to d's
  // size: goroutines it does not name cost nothing. When a keyframe is due, it is made from the
  // encoder's own copy of the previous sample with `d` applied, so a caller keeps none.
  // d.changed and d.waits sorted by id, d.exited sorted; exits of ids the previous sample does
  // not hold are dropped; an id both exited and changed is a logic_error. With d.graph, also the
  // wait-for graph's changes (compared object by object).
  void append_delta(std::string& out, const sample_delta& d, const symbol_tables& tables);
  // Goroutines in the last sample appended.
  std::uint64_t goroutines() const noexcept;
  // Appends the end block. It depends on no earlier block, so a recorder may append it to a
  // recording another process wrote.
  static void append_end(std::string& out, const recording_end& e);

  const v2_encoder_stats& stats() const noexcept;

 private:
  struct state;
  std::unique_ptr<state> st_;
};

}  // namespace gprofid
