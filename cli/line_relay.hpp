// Copies a recording from the recorded program's channel to the output, whole lines (v1) or whole
// blocks (v2, told apart by the first byte) only: a line is written once its newline has arrived,
// a block once all its bytes have, so the output never ends in half a line or block. For v2 the
// same rules hold for blocks: the preamble and header first and once, then tables and sample
// blocks, anything else (an unknown type, a length over the format's limit) rejected. Only what the
// channel's owner wrote (the first process that writes to it) and only well-formed recording lines
// are copied: header first and once, then site, frame, stack and sample lines, each a JSON object
// that starts with its type, as recording_writer writes them. Everything else is counted and
// reported, never written. It counts the samples and holds back the program's own end line (the
// recorder writes the end line, since only it knows how the program ended; `record --pid` writes
// the held-back line itself).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

namespace gprofid::cli {

class line_relay {
 public:
  // The longest line held while waiting for its newline: a sample of a million goroutines is
  // about 200 MB, and a program that never writes a newline must not make us hold all it sends.
  static constexpr std::size_t default_max_line = std::size_t{1} << 30;

  explicit line_relay(int out_fd, std::size_t max_line = default_max_line) noexcept
      : out_fd_(out_fd), max_line_(max_line) {}

  // Reads what the channel `in_fd` (non-blocking, cli/recording_channel.hpp) has and forwards
  // the owner's complete lines. Returns false at end of file. Throws std::system_error when the
  // output cannot be written.
  bool pump(int in_fd);
  // Feeds bytes of the owner as if read; for tests and for pump().
  void feed(std::string_view bytes);

  std::uint64_t samples() const noexcept { return samples_; }
  bool saw_header() const noexcept { return header_; }
  // Whether the owner wrote its end line: its recording is complete.
  bool saw_end() const noexcept { return end_; }
  // The last end line held back, newline included; empty if none came (or the program writes v2).
  const std::string& end_line() const noexcept { return end_line_; }
  // Writes `bytes` to the output as they are (a held-back end line). Throws like pump().
  void write_through(std::string_view bytes);
  // Bytes of an unterminated last line or incomplete last block (dropped, never written).
  std::size_t pending() const noexcept { return partial_.size(); }
  // The program writes format v2 (so the end must be a v2 end block).
  bool binary() const noexcept { return mode_ == mode::blocks; }

  // The process whose lines are relayed (0 until someone writes, or if the kernel does not say).
  pid_t owner() const noexcept { return owner_; }
  // Lines of the owner that were not recording lines, and the first of them described
  // ("line 1: \"x\" is not a recording line").
  std::uint64_t rejected_lines() const noexcept { return rejected_lines_; }
  const std::string& first_rejected() const noexcept { return first_rejected_; }
  // Other processes that wrote to the channel, and how many bytes they wrote.
  const std::set<pid_t>& intruders() const noexcept { return intruders_; }
  std::uint64_t intruder_bytes() const noexcept { return intruder_bytes_; }

 private:
  void forward(std::string_view complete_lines);
  // Why `line` (with its newline) is not accepted here, or "" if it is.
  std::string reject_reason(std::string_view line) const;

  void reject(std::string_view line, const std::string& why);
  void feed_blocks(std::string_view bytes);
  void write_out();

  enum class mode { unknown, lines, blocks };
  mode mode_ = mode::unknown;
  bool preamble_done_ = false;
  bool broken_ = false;  // a block header no writer makes: the rest is dropped

  int out_fd_;
  std::size_t max_line_;
  bool skipping_ = false;  // dropping the rest of an overlong line, up to its newline
  std::string partial_;
  std::string out_;
  std::string end_line_;
  std::uint64_t samples_ = 0;
  std::uint64_t line_no_ = 0;  // of the owner's stream
  bool header_ = false;
  bool end_ = false;
  pid_t owner_ = 0;
  std::uint64_t rejected_lines_ = 0;
  std::string first_rejected_;
  std::set<pid_t> intruders_;
  std::uint64_t intruder_bytes_ = 0;
};

}  // namespace gprofid::cli
