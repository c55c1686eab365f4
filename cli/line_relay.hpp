// Copies a recording from the recorded program's pipe to the output, whole lines only: a line is
// written once its newline has arrived, so the output never ends in half a line. It counts the
// samples and holds back the program's own end line (the recorder writes the end line, since
// only it knows how the program ended).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace gprofid::cli {

class line_relay {
 public:
  explicit line_relay(int out_fd) noexcept : out_fd_(out_fd) {}

  // Reads what `in_fd` (non-blocking) has and forwards the complete lines. Returns false at end
  // of file. Throws std::system_error when the output cannot be written.
  bool pump(int in_fd);
  // Feeds bytes as if read; for tests and for pump().
  void feed(std::string_view bytes);

  std::uint64_t samples() const noexcept { return samples_; }
  bool saw_header() const noexcept { return header_; }
  // Bytes of an unterminated last line (dropped, never written).
  std::size_t pending() const noexcept { return partial_.size(); }

 private:
  void forward(std::string_view complete_lines);

  int out_fd_;
  std::string partial_;
  std::string out_;
  std::uint64_t samples_ = 0;
  bool header_ = false;
};

}  // namespace gprofid::cli
