#include "cli/line_relay.hpp"

#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace gprofid::cli {
namespace {

bool has_type(std::string_view line, std::string_view type) {
  // The writer always starts a line with its type (recording_writer.cpp).
  constexpr std::string_view prefix = "{\"type\":\"";
  return line.starts_with(prefix) && line.substr(prefix.size()).starts_with(type) &&
         line.substr(prefix.size() + type.size()).starts_with('"');
}

}  // namespace

bool line_relay::pump(int in_fd) {
  char buf[65536];
  while (true) {
    const ssize_t n = ::read(in_fd, buf, sizeof buf);
    if (n > 0) {
      feed(std::string_view(buf, static_cast<std::size_t>(n)));
      continue;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
    return false;  // a broken pipe reads as the end
  }
}

void line_relay::feed(std::string_view bytes) {
  const auto last_newline = bytes.rfind('\n');
  if (last_newline == std::string_view::npos) {
    partial_.append(bytes);
    return;
  }
  if (partial_.empty()) {
    forward(bytes.substr(0, last_newline + 1));
  } else {
    partial_.append(bytes.substr(0, last_newline + 1));
    std::string lines = std::move(partial_);
    partial_.clear();
    forward(lines);
  }
  partial_.assign(bytes.substr(last_newline + 1));
}

void line_relay::forward(std::string_view lines) {
  out_.clear();
  while (!lines.empty()) {
    const auto nl = lines.find('\n');
    const std::string_view line = lines.substr(0, nl + 1);
    lines.remove_prefix(nl + 1);
    if (has_type(line, "end")) continue;
    if (has_type(line, "sample")) ++samples_;
    if (has_type(line, "header")) header_ = true;
    out_.append(line);
  }
  std::string_view rest = out_;
  while (!rest.empty()) {
    const ssize_t n = ::write(out_fd_, rest.data(), rest.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category());
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace gprofid::cli
