#include "cli/progress.hpp"

#include <unistd.h>

#include <cstdio>

#include "gprofid/clock.hpp"
#include "gprofid/traceback_text.hpp"

namespace gprofid::cli {

progress_line::progress_line(std::string what, bool enabled)
    : what_(std::move(what)), enabled_(enabled) {}

progress_line progress_line::for_stderr(std::string what, bool quiet) {
  return progress_line(std::move(what), !quiet && ::isatty(STDERR_FILENO) == 1);
}

progress_line::~progress_line() {
  clear();
}

void progress_line::update(std::uint64_t samples, std::int64_t elapsed_ns,
                           std::uint64_t goroutines) {
  if (!enabled_) return;
  const std::int64_t now = monotonic_ns();
  if (drawn_ && now - last_draw_ns_ < 200'000'000) return;
  last_draw_ns_ = now;
  std::string goroutine_part;
  if (goroutines > 0) goroutine_part = ", " + std::to_string(goroutines) + " goroutines";
  // \r + erase-line keeps it one line however long the previous text was.
  std::fprintf(stderr, "\r\033[Krecording %s: %llu samples, %s%s (Ctrl-C to stop)", what_.c_str(),
               static_cast<unsigned long long>(samples), format_duration(elapsed_ns).c_str(),
               goroutine_part.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void progress_line::clear() {
  if (!drawn_) return;
  std::fputs("\r\033[K", stderr);
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace gprofid::cli
