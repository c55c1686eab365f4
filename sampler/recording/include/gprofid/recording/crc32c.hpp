// CRC-32C (Castagnoli), the block checksum of recording format v2: the SSE4.2 instruction when
// the CPU has it, a table otherwise; both give the same values (RFC 3720's test vectors).
#pragma once

#include <cstddef>
#include <cstdint>

namespace gprofid {

// Extends `crc` (0 for a fresh checksum) over `n` bytes at `data`.
std::uint32_t crc32c(std::uint32_t crc, const void* data, std::size_t n) noexcept;

}  // namespace gprofid
