// JSON text written as it is made, byte for byte what nlohmann's dump(-1, ' ', false,
// error_handler_t::replace) writes for the same values: no document is built, so the memory of
// a report is its buffer, not its size. Private to the analysis library.
#pragma once

#include <concepts>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "gprofid/recording/json_text.hpp"

namespace gprofid::json_out {

// Objects and arrays are opened and closed explicitly; commas are the stream's business.
class stream {
 public:
  explicit stream(std::ostream& out) : out_(out) {}
  stream(const stream&) = delete;
  stream& operator=(const stream&) = delete;
  ~stream() { flush(); }

  void begin_object() {
    before_value();
    buf_ += '{';
    first_.push_back(true);
  }
  void end_object() {
    buf_ += '}';
    first_.pop_back();
    maybe_flush();
  }
  void begin_array() {
    before_value();
    buf_ += '[';
    first_.push_back(true);
  }
  void end_array() {
    buf_ += ']';
    first_.pop_back();
    maybe_flush();
  }
  // `k` is a fixed ASCII name (never escaped); label keys go through key_text.
  void key(std::string_view k) {
    comma();
    buf_ += '"';
    buf_ += k;
    buf_ += "\":";
    after_key_ = true;
  }
  void key_text(std::string_view k) {
    comma();
    append_string(k);
    buf_ += ':';
    after_key_ = true;
  }
  template <std::integral Int>
  requires(!std::same_as<Int, bool>) void number(Int v) {
    before_value();
    append_json_int(buf_, v);
  }
  void string(std::string_view s) {
    before_value();
    append_string(s);
  }
  void boolean(bool b) {
    before_value();
    buf_ += b ? "true" : "false";
  }
  void null() {
    before_value();
    buf_ += "null";
  }
  // Text the caller made (e.g. a key and a value at once).
  void raw(std::string_view s) { buf_ += s; }

  void flush() {
    if (buf_.empty()) return;
    out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    buf_.clear();
  }

 private:
  void comma() {
    if (!first_.back()) buf_ += ',';
    first_.back() = false;
  }
  void before_value() {
    if (after_key_) {
      after_key_ = false;
    } else if (!first_.empty()) {
      comma();
    }
  }
  void maybe_flush() {
    if (buf_.size() >= (1u << 16)) flush();
  }
  void append_string(std::string_view s);

  std::ostream& out_;
  std::string buf_;
  std::vector<bool> first_;  // per open object or array: nothing written in it yet
  bool after_key_ = false;
};

}  // namespace gprofid::json_out
