// Just enough of the protocol buffers wire format to write profile.proto messages in a recorded
// program, which must not link libprotobuf. Fields are appended in the order the caller gives;
// to match libprotobuf's output byte for byte, give them in field-number order and leave out
// proto3 defaults (0, empty), as its serializer does.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gprofid/recording/varint.hpp"

namespace gprofid::proto_wire {

class message {
 public:
  // A varint field (int64, uint64, bool); 0 is left out, as proto3 does.
  void varint(std::uint32_t field, std::uint64_t v) {
    if (v == 0) return;
    tag(field, 0);
    append_varint(v);
  }
  void varint(std::uint32_t field, std::int64_t v) { varint(field, static_cast<std::uint64_t>(v)); }
  // A length-delimited field (string, bytes, embedded message); always written, since repeated
  // strings keep their empty elements.
  void bytes(std::uint32_t field, std::string_view b) {
    tag(field, 2);
    append_varint(b.size());
    buf_.append(b);
  }
  void nested(std::uint32_t field, const message& m) { bytes(field, m.buf_); }
  // A packed repeated varint field; left out when empty.
  template <typename T>
  void packed(std::uint32_t field, const std::vector<T>& values) {
    if (values.empty()) return;
    message body;
    for (T v : values) body.append_varint(static_cast<std::uint64_t>(v));
    nested(field, body);
  }

  const std::string& data() const noexcept { return buf_; }
  std::string take() noexcept { return std::move(buf_); }

 private:
  void tag(std::uint32_t field, std::uint32_t wire_type) {
    append_varint((static_cast<std::uint64_t>(field) << 3) | wire_type);
  }
  // Protobuf's varints are LEB128, as the recording format's are; int64 is not zigzagged.
  void append_varint(std::uint64_t v) { varint::append(buf_, v); }

  std::string buf_;
};

}  // namespace gprofid::proto_wire
