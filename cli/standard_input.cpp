#include "cli/standard_input.hpp"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <streambuf>
#include <system_error>

namespace gprofid::cli {
namespace {

// An input buffer over a descriptor. std::cin would do, but while it is synchronised with stdio
// it reads one character per call, and unsynchronising it would reorder cout and stdout.
class descriptor_buffer : public std::streambuf {
 public:
  explicit descriptor_buffer(int fd) : fd_(fd) {}

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    ssize_t n = 0;
    do {
      n = ::read(fd_, buf_.data(), buf_.size());
    } while (n < 0 && errno == EINTR);
    // A read error reaches the reader as badbit (the istream catches this), so it is reported
    // rather than taken for the end of the recording.
    if (n < 0) throw std::system_error(errno, std::generic_category(), "read");
    if (n == 0) return traits_type::eof();
    setg(buf_.data(), buf_.data(), buf_.data() + n);
    return traits_type::to_int_type(*gptr());
  }

 private:
  int fd_;
  std::array<char, 1 << 16> buf_{};
};

}  // namespace

std::string recording_name(const std::string& path) {
  return is_standard_input(path) ? "stdin" : path;
}

std::unique_ptr<recording_reader> open_recording(const std::string& path) {
  if (!is_standard_input(path)) return std::make_unique<recording_reader>(path);
  // One buffer and stream for the process: what a first reader consumed is gone.
  static bool taken = false;
  if (taken) {
    throw recording_error("stdin", 0,
                          "standard input is read once: give - only once (e.g. diff -- -@0 -@-1)");
  }
  if (::isatty(STDIN_FILENO)) {
    throw recording_error("stdin", 0,
                          "standard input is a terminal: pipe or redirect a recording into it");
  }
  taken = true;
  static descriptor_buffer buffer(STDIN_FILENO);
  static std::istream in(&buffer);
  return std::make_unique<recording_reader>(in, "stdin");
}

}  // namespace gprofid::cli
