#include "cli/line_relay.hpp"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <system_error>

#include "cli/recording_channel.hpp"
#include "gprofid/recording/recording_format_v2.hpp"
#include "gprofid/recording/v2_blocks.hpp"

namespace gprofid::cli {
namespace {

// The writer always starts a line with its type (recording_writer.cpp).
constexpr std::string_view type_prefix = "{\"type\":\"";
constexpr std::array<std::string_view, 6> line_types = {"header", "site",   "frame",
                                                        "stack",  "sample", "end"};

// The type of a line that starts as the writer starts every line, or "".
std::string_view type_of(std::string_view line) {
  if (!line.starts_with(type_prefix)) return {};
  line.remove_prefix(type_prefix.size());
  for (auto t : line_types) {
    if (line.starts_with(t) && line.substr(t.size()).starts_with('"')) return t;
  }
  return {};
}

// The start of a rejected line, printable: what a user needs to recognise where it came from.
std::string excerpt(std::string_view line) {
  if (line.ends_with('\n')) line.remove_suffix(1);
  std::string out = "\"";
  for (char c : line.substr(0, 40)) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '"' && c != '\\') {
      out += c;
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      out += hex;
    }
  }
  return out + (line.size() > 40 ? "...\"" : "\"");
}

}  // namespace

bool line_relay::pump(int in_fd) {
  char buf[65536];
  while (true) {
    const channel_chunk c = receive_chunk(in_fd, buf, sizeof buf);
    if (c.size > 0) {
      // The first writer owns the channel: normally the program itself, or the one process of a
      // shell script that runs on the runtime. Bytes of anyone else are never relayed.
      if (owner_ == 0) owner_ = c.sender;
      if (c.sender == owner_) {
        feed(std::string_view(buf, static_cast<std::size_t>(c.size)));
      } else {
        intruders_.insert(c.sender);
        intruder_bytes_ += static_cast<std::uint64_t>(c.size);
      }
      continue;
    }
    if (c.size == 0) return false;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
    return false;  // a broken channel reads as the end
  }
}

void line_relay::feed(std::string_view bytes) {
  if (mode_ == mode::unknown && !bytes.empty()) {
    mode_ = static_cast<unsigned char>(bytes[0]) == recording_format_v2::first_byte ? mode::blocks
                                                                                    : mode::lines;
  }
  if (mode_ == mode::blocks) {
    feed_blocks(bytes);
    return;
  }
  if (skipping_) {
    const auto nl = bytes.find('\n');
    if (nl == std::string_view::npos) return;
    skipping_ = false;
    bytes.remove_prefix(nl + 1);
  }
  const auto last_newline = bytes.rfind('\n');
  if (last_newline == std::string_view::npos) {
    if (partial_.size() + bytes.size() > max_line_) {
      // Rejected by its start; the rest, up to its newline, is dropped as it comes.
      reject(partial_.empty() ? bytes : std::string_view(partial_),
             "is longer than " + std::to_string(max_line_) + " bytes");
      partial_.clear();
      skipping_ = true;
      return;
    }
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

void line_relay::reject(std::string_view line, const std::string& why) {
  ++line_no_;
  if (rejected_lines_++ == 0) {
    first_rejected_ = "line " + std::to_string(line_no_) + ": " + excerpt(line) + " " + why;
  }
}

std::string line_relay::reject_reason(std::string_view line) const {
  const std::string_view type = type_of(line);
  std::string_view body = line.substr(0, line.size() - 1);  // without the newline
  if (type.empty() || !body.ends_with('}')) return "is not a recording line";
  if (end_) return "follows the program's end line";
  if (type == "header") return header_ ? "is a second header line" : "";
  if (!header_) return "comes before the header line";
  return "";
}

void line_relay::forward(std::string_view lines) {
  out_.clear();
  while (!lines.empty()) {
    const auto nl = lines.find('\n');
    const std::string_view line = lines.substr(0, nl + 1);
    lines.remove_prefix(nl + 1);
    if (auto why = reject_reason(line); !why.empty()) {
      reject(line, why);
      continue;
    }
    ++line_no_;
    const std::string_view type = type_of(line);
    if (type == "end") {
      end_ = true;
      end_line_.assign(line);
      continue;
    }
    if (type == "sample") ++samples_;
    if (type == "header") header_ = true;
    out_.append(line);
  }
  write_out();
}

void line_relay::feed_blocks(std::string_view bytes) {
  namespace v2 = recording_format_v2;
  if (broken_) return;
  partial_.append(bytes);
  out_.clear();
  std::size_t p = preamble_done_ ? 0 : v2::preamble_size;
  if (partial_.size() < p) return;
  if (!preamble_done_ && v2_blocks::preamble_version(partial_.data()) == 0) {
    reject(std::string_view(partial_).substr(0, p), "is not a recording preamble");
    broken_ = true;
    partial_.clear();
    return;
  }
  while (partial_.size() - p >= v2::block_header_size) {
    const auto h = v2_blocks::parse_header(partial_.data() + p);
    if (h.length > std::min<std::size_t>(max_line_, v2::max_block_bytes)) {
      // Nothing after a length no writer makes can be trusted to be a block boundary.
      reject(std::string_view(partial_).substr(p, v2::block_header_size),
             "is a block of " + std::to_string(h.length) + " bytes, over the limit");
      broken_ = true;
      break;
    }
    const std::size_t n = v2::block_header_size + h.length;
    if (partial_.size() - p < n) break;
    const std::string_view block = std::string_view(partial_).substr(p, n);
    p += n;
    const auto type = static_cast<v2::block_type>(h.type);
    std::string why;
    if (end_) {
      why = "follows the program's end block";
    } else if (type == v2::block_type::header) {
      why = header_ ? "is a second header block" : "";
    } else if (!header_) {
      why = "comes before the header block";
    } else if (type != v2::block_type::tables && type != v2::block_type::sample &&
               type != v2::block_type::end && h.type < v2::first_optional_type) {
      why = "is a block of unknown type " + std::to_string(h.type);
    }
    if (!why.empty()) {
      reject(block, why);
      continue;
    }
    ++line_no_;
    if (type == v2::block_type::end) {
      end_ = true;
      continue;
    }
    if (type == v2::block_type::sample) ++samples_;
    if (type == v2::block_type::header) header_ = true;
    out_.append(block);
  }
  if (!preamble_done_) {
    if (out_.empty()) {
      partial_.erase(v2::preamble_size, p - v2::preamble_size);
      return;  // the preamble goes out with the first whole block
    }
    out_.insert(0, partial_, 0, v2::preamble_size);
    preamble_done_ = true;
  }
  partial_.erase(0, p);
  if (broken_) partial_.clear();
  write_out();
}

void line_relay::write_out() {
  write_through(out_);
}

void line_relay::write_through(std::string_view rest) {
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
