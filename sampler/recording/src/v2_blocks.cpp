#include "gprofid/recording/v2_blocks.hpp"

#include "gprofid/recording/crc32c.hpp"
#include "gprofid/recording/recording_format_v2.hpp"

namespace gprofid::v2_blocks {
namespace {

std::uint32_t get_u32(const char* p) noexcept {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return std::uint32_t{u[0]} | std::uint32_t{u[1]} << 8 | std::uint32_t{u[2]} << 16 |
         std::uint32_t{u[3]} << 24;
}

void set_u32(char* p, std::uint32_t v) noexcept {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}

}  // namespace

void append_preamble(std::string& out) {
  out += recording_format_v2::magic;
  char v[4];
  set_u32(v, recording_format_v2::version);
  out.append(v, sizeof v);
}

std::uint32_t preamble_version(const char* p) noexcept {
  constexpr auto& magic = recording_format_v2::magic;
  if (std::string_view(p, magic.size()) != magic) return 0;
  return get_u32(p + magic.size());
}

block_header parse_header(const char* p) noexcept {
  block_header h;
  h.type = static_cast<std::uint8_t>(p[0]);
  h.flags = static_cast<std::uint8_t>(p[1]);
  h.length = get_u32(p + 2);
  h.crc = get_u32(p + 6);
  return h;
}

std::uint32_t checksum(const char* header, std::string_view payload) noexcept {
  return crc32c(crc32c(0, header, 6), payload.data(), payload.size());
}

void append(std::string& out, std::uint8_t type, std::uint8_t flags, std::string_view payload) {
  char h[recording_format_v2::block_header_size];
  h[0] = static_cast<char>(type);
  h[1] = static_cast<char>(flags);
  set_u32(h + 2, static_cast<std::uint32_t>(payload.size()));
  set_u32(h + 6, checksum(h, payload));
  out.append(h, sizeof h);
  out += payload;
}

void reseal(std::string& recording) {
  constexpr std::size_t head = recording_format_v2::block_header_size;
  std::size_t p = recording_format_v2::preamble_size;
  while (p + head <= recording.size()) {
    const block_header h = parse_header(recording.data() + p);
    if (h.length > recording.size() - p - head) break;
    set_u32(recording.data() + p + 6,
            checksum(recording.data() + p, std::string_view(recording).substr(p + head, h.length)));
    p += head + h.length;
  }
}

}  // namespace gprofid::v2_blocks
