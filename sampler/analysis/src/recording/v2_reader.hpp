// Reads recording format v2 (docs/recording-format.md "Version 2") block by block, holding the
// tables and the goroutines alive: each sample block is applied to that state in work
// proportional to its records (a goroutine without one is not touched), and what it changed is
// kept (sample_changes). recording_reader uses it for files that start with the v2 magic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gprofid/analysis/recording_reader.hpp"
#include "gprofid/analysis/sample_changes.hpp"
#include "gprofid/analysis/sample_sequence.hpp"
#include "gprofid/recording/recording_format.hpp"
#include "gprofid/recording/sample.hpp"

namespace gprofid {
namespace v2_decode {
class cursor;
struct decode_error;
}  // namespace v2_decode

class v2_reader {
 public:
  // Reads the preamble and the header block at once; throws recording_error.
  v2_reader(std::istream& in, std::string name);
  ~v2_reader();
  v2_reader(const v2_reader&) = delete;
  v2_reader& operator=(const v2_reader&) = delete;

  const recording_header& header() const noexcept { return header_; }
  const symbol_tables& tables() const noexcept { return tables_; }
  // The next sample, or false at the end (see recording_reader::next).
  bool next(sample& out);
  // The next sample as what it changed (see recording_reader::next_changes).
  bool next_changes(sample_changes& out);
  // See recording_reader::set_piece_size.
  void set_piece_size(std::size_t n) noexcept { piece_ = n == 0 ? SIZE_MAX : n; }
  // The sample read last, whole.
  void current(sample& out) const;
  // Reads up to and including sample `index` (0-based, at or after the next one): see
  // recording_reader::skip_to. From a seekable stream it passes over the samples (pass_sample)
  // and applies them from the last keyframe at or before `index`.
  bool skip_to(std::uint64_t index);
  // Passes over every sample left (pass_sample) and returns how many there were.
  std::uint64_t pass_rest();
  std::uint64_t samples_read() const noexcept { return samples_read_; }
  const std::optional<recording_end>& end() const noexcept { return end_; }
  const std::vector<std::string>& warnings() const noexcept { return warnings_; }
  // The file offset of the block read last.
  std::uint64_t offset() const noexcept { return block_offset_; }
  // See recording_reader::restart_point and restart.
  std::optional<recording_restart_point> restart_point() const noexcept;
  void restart(const recording_restart_point& p);

 private:
  struct block {
    std::uint8_t type = 0;
    std::uint8_t flags = 0;
    std::string_view payload;  // raw or decompressed
    bool compressed = false;
  };
  struct zstd_state;
  enum class read_result { block, end_of_file, torn };
  read_result read_block(block& b);
  bool fill(std::size_t need);
  void read_header_block();
  void read_tables(const block& b);
  // Reads blocks up to the next sample; applies it, or with !apply only reads its flags and seq
  // (checked and counted) and leaves the goroutine state stale until a keyframe is applied.
  // `budget`: see read_sample.
  bool next_sample_block(bool apply = true, bool* keyframe = nullptr,
                         std::size_t budget = SIZE_MAX);
  // A position between blocks, to come back to.
  struct mark {
    std::uint64_t offset = 0;
    std::uint64_t block_no = 0;
    std::uint64_t samples_read = 0;
  };
  mark here() const noexcept { return {consumed_ + pos_, block_no_, samples_read_}; }
  // Goes back to `m` (a seekable stream's); blocks before the position the reader had reached
  // are read again as replays: tables already read are not read twice, seqs not checked twice.
  void rewind(const mark& m);
  // Applies a sample block; false when it stopped at `budget` goroutines created, with the
  // rest of a first sample's records left for next_piece().
  bool read_sample(const block& b, std::size_t budget);
  bool read_records(std::size_t budget);
  void next_piece();
  [[noreturn]] void fail_in_block(const block& b, const v2_decode::decode_error& e) const;
  void pass_sample(const block& b, bool* keyframe);  // its flags and seq only
  void read_extension(v2_decode::cursor& c, goroutine_sample& g);
  void read_trailing_fields(v2_decode::cursor& c);
  void read_end(const block& b);
  void finish();

  std::istream& in_;
  std::string name_;
  std::string buf_;  // input read ahead; [pos_, size) is unread
  std::size_t pos_ = 0;
  std::uint64_t consumed_ = 0;  // file offset of buf_[0]
  std::string raw_;             // a decompressed payload
  std::unique_ptr<zstd_state> zstd_;

  recording_header header_;
  symbol_tables tables_;
  std::vector<std::string> strings_;
  std::vector<label_ptr> label_sets_;
  // A goroutine alive after the last sample, as of the sample that last changed it: until a
  // record changes it again its fields stay, and its wait grows as the format predicts.
  struct live_goroutine {
    goroutine_sample g;
    std::int64_t as_of_ns = 0;  // time of the sample g.wait_ns is from
    std::uint64_t as_of = 0;    // index of that sample (1, 2, ...)
    bool gone = false;          // exited: a hole until the next compaction
  };
  goroutine_sample value_before(const live_goroutine& l) const;
  void merge_created(bool collided);

  std::vector<live_goroutine> live_;     // sorted by id, with holes
  std::vector<live_goroutine> created_;  // the sample's new goroutines, merged in after it
  std::size_t gone_ = 0;                 // holes in live_
  std::uint64_t alive_ = 0;
  std::uint64_t applied_ = 0;  // samples applied; the index of the last one
  sample_changes changes_;     // what the last sample changed
  // A first sample handed over in pieces (set_piece_size): its block, and where its decoding
  // stands until the last piece is read.
  struct sample_decode;
  std::unique_ptr<sample_decode> decode_;
  std::size_t piece_ = SIZE_MAX;
  bool pending_ = false;
  block pending_block_;
  bool pending_again_ = false;
  std::uint64_t seq_ = 0;
  std::int64_t duration_ns_ = 0;
  std::int64_t pause_ns_ = 0;
  std::vector<std::uint64_t> exits_;
  std::vector<wait_object> objects_, objects_scratch_;  // the current sample's wait-for graph
  std::vector<wait_object> more_objects_;  // its objects of later kinds (sample field 2)
  std::vector<wait_object> graph_;         // both merged, when more_objects_ has any
  const std::vector<wait_object>& graph() const noexcept {
    return more_objects_.empty() ? objects_ : graph_;
  }
  std::int64_t previous_t_ns_ = 0;
  bool have_state_ = false;  // a keyframe was read: deltas apply to current_
  std::uint64_t block_no_ = 0;
  std::uint64_t block_offset_ = 0;
  std::uint64_t samples_read_ = 0;
  sample_sequence sequence_{sample_sequence::position::offset};
  std::optional<recording_end> end_;
  std::vector<std::string> warnings_;
  bool done_ = false;
  // Restarting (restart()): blocks before read_until_ were read already, so their tables are
  // not added again and their warnings not given again; the end's warnings are given once.
  bool keyframe_ = false;  // the sample read last is a keyframe
  std::uint64_t read_until_ = 0;
  bool finished_ = false;
  bool seekable_ = false;           // the stream can go back (a file), for skip_to
  std::streamoff stream_base_ = 0;  // the stream position of the recording's first byte
};

}  // namespace gprofid
