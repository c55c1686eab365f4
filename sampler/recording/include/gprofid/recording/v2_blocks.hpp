// Block framing of recording format v2 (docs/recording-format.md "Blocks"): the 10-byte block
// header with its CRC-32C, shared by the encoder, the reader and `record`'s relay.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gprofid::v2_blocks {

// Appends the 16-byte preamble: the magic and the version this build writes.
void append_preamble(std::string& out);
// The version a preamble names, or 0 when `p` (preamble_size bytes) does not start with the magic.
std::uint32_t preamble_version(const char* p) noexcept;

struct block_header {
  std::uint8_t type = 0;
  std::uint8_t flags = 0;
  std::uint32_t length = 0;  // of the stored payload
  std::uint32_t crc = 0;
};

// Decodes the header at `p`, which must hold block_header_size bytes.
block_header parse_header(const char* p) noexcept;
// The checksum of a block whose header starts at `header` (its first 6 bytes count) and whose
// stored payload is `payload`.
std::uint32_t checksum(const char* header, std::string_view payload) noexcept;
// Appends a block with its header and checksum; the payload is stored as given.
void append(std::string& out, std::uint8_t type, std::uint8_t flags, std::string_view payload);
// Recomputes the checksum of every complete block after the preamble. For tests and fuzzing:
// a payload changed on purpose still reaches the decoder.
void reseal(std::string& recording);

}  // namespace gprofid::v2_blocks
