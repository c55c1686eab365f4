// Writes a recording (docs/recording-format.md) as v1 JSON Lines or v2 binary blocks to a file
// descriptor, FILE* or ostream. Every call hands whole lines or blocks to the OS at once, so a
// crash leaves complete ones plus at most one partial last one; write errors throw
// std::system_error with errno's text.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

#include "gprofid/recording/recording_format.hpp"
#include "gprofid/recording/sample.hpp"
#include "gprofid/recording/v2_encoder.hpp"

namespace gprofid {

// The two formats: v1 JSON Lines (for jq) and v2 binary, delta-encoded by goroutine id.
enum class recording_encoding : std::uint8_t { jsonl, v2 };
// "jsonl" or "v2".
std::optional<recording_encoding> parse_recording_encoding(std::string_view s) noexcept;
std::string_view to_string(recording_encoding e) noexcept;

class recording_writer {
 public:
  // Writes to `fd` (not closed by the writer). `name` appears in error messages.
  explicit recording_writer(int fd, std::string name = {},
                            recording_encoding encoding = recording_encoding::jsonl);
  explicit recording_writer(std::FILE* file, std::string name = {},
                            recording_encoding encoding = recording_encoding::jsonl);
  explicit recording_writer(std::ostream& out, std::string name = "stream",
                            recording_encoding encoding = recording_encoding::jsonl);
  // Creates (or truncates) the file at `path` and owns its descriptor.
  static recording_writer create(const std::string& path,
                                 recording_encoding encoding = recording_encoding::jsonl);

  recording_writer(recording_writer&& o) noexcept;
  recording_writer& operator=(recording_writer&&) = delete;
  recording_writer(const recording_writer&) = delete;
  ~recording_writer();

  void write_header(const recording_header& h);
  // Writes the table entries at or past `new_from` (sites, frames, stacks), then the sample, in
  // one write. Every index the sample uses must be below the tables' sizes. (v2 keeps track of
  // what it wrote itself and ignores `new_from`.)
  void write_sample(const sample& s, const symbol_tables& tables, table_marks new_from);
  // Same, with the entries this writer has not written yet.
  void write_sample(const sample& s, const symbol_tables& tables);
  // v2 only: the sample that is the previous one changed by `d`, as a delta or, when one is due,
  // a keyframe (see v2_encoder::append_delta); returns how many goroutines it holds. Every index
  // d uses must be below the tables' sizes.
  std::uint64_t write_delta(const sample_delta& d, const symbol_tables& tables);
  void write_end(const recording_end& e);

  std::uint64_t bytes_written() const noexcept { return bytes_; }
  const std::string& name() const noexcept { return name_; }
  recording_encoding encoding() const noexcept {
    return v2_ ? recording_encoding::v2 : recording_encoding::jsonl;
  }

 private:
  enum class sink_kind { fd, file, stream };
  void flush_line_buffer();
  void append_definitions(const symbol_tables& tables, table_marks from);
  void append_sample(const sample& s);

  sink_kind kind_;
  int fd_ = -1;
  // (st_dev, st_ino) of fd_ when the writer was made, checked before each write.
  std::optional<std::pair<dev_t, ino_t>> identity_;
  bool owns_fd_ = false;
  std::FILE* file_ = nullptr;
  std::ostream* stream_ = nullptr;
  std::string name_;
  std::string buf_;
  table_marks written_;
  std::uint64_t bytes_ = 0;
  std::unique_ptr<v2_encoder> v2_;  // set when writing v2
};

// "2024-05-01T12:00:00.123456789Z".
std::string format_rfc3339_utc(std::int64_t unix_ns);

}  // namespace gprofid
