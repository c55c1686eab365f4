// The live "recording..." status line on stderr: redrawn in place at most a few times a second,
// and only when stderr is a terminal, so logs and pipes never see it.
#pragma once

#include <cstdint>
#include <string>

namespace gprofid::cli {

class progress_line {
 public:
  // `what` names what is recorded ("workload http", "./server").
  explicit progress_line(std::string what, bool enabled);
  // Enabled when stderr is a terminal and `quiet` is false.
  static progress_line for_stderr(std::string what, bool quiet);
  ~progress_line();
  progress_line(const progress_line&) = delete;
  progress_line& operator=(const progress_line&) = delete;

  void update(std::uint64_t samples, std::int64_t elapsed_ns, std::uint64_t goroutines);
  // Erases the line so that the next message starts on a clean line.
  void clear();

  bool enabled() const noexcept { return enabled_; }

 private:
  std::string what_;
  bool enabled_;
  bool drawn_ = false;
  std::int64_t last_draw_ns_ = 0;
};

}  // namespace gprofid::cli
