// Recording format v2 (binary, docs/recording-format.md "Version 2"): the preamble, block
// framing, block types and field numbers that the writer and the reader share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gprofid::recording_format_v2 {

inline constexpr int version = 2;

// The first 16 bytes of a v2 file: a byte no text starts with, the name, bytes that text-mode
// transfers mangle (as PNG does), then the version as a little-endian u32. A v1 file starts
// with '{' or whitespace, so one byte tells the two apart.
inline constexpr std::string_view magic{"\x89GPROFID\r\n\x1a\n", 12};
inline constexpr std::size_t preamble_size = 16;
inline constexpr unsigned char first_byte = 0x89;

// Block framing: type u8, flags u8, payload length u32 LE, CRC-32C u32 LE of the first six
// bytes and the payload, then the payload.
inline constexpr std::size_t block_header_size = 10;
// No block may be longer (stored or decompressed): a bound on what a reader allocates, far
// above a keyframe of a million goroutines (~30 MB).
inline constexpr std::uint32_t max_block_bytes = 1u << 30;
// A zstd frame may decompress to at most max_zstd_ratio times its own size (or to
// zstd_any_ratio_bytes, whatever its size): a bound on the memory and time a few bytes of a file
// can cost a reader (a 33 KB frame of zeros inflates to 1 GiB). Keyframes shrink 3.5-6x;
// the writer stores a block raw rather than go over the bound.
inline constexpr std::uint64_t max_zstd_ratio = 1024;
inline constexpr std::uint64_t zstd_any_ratio_bytes = 4096;
constexpr bool zstd_size_allowed(std::uint64_t decompressed, std::uint64_t frame_bytes) {
  // frame_bytes is at most max_block_bytes, so the product cannot overflow.
  return decompressed <= zstd_any_ratio_bytes || decompressed <= max_zstd_ratio * frame_bytes;
}

enum class block_type : std::uint8_t {
  header = 1,  // tagged fields of recording_header; first, exactly once
  tables = 2,  // new strings, sites, frames, stacks and label sets, in that order
  sample = 3,  // a keyframe or a delta from the previous sample
  end = 4,     // tagged fields of recording_end; last
};
// Types at or above this may be skipped by a reader that does not know them; an unknown type
// below it is an error.
inline constexpr std::uint8_t first_optional_type = 0x80;

namespace block_flag {
inline constexpr std::uint8_t zstd = 1;  // payload: varint decompressed size, then a zstd frame
inline constexpr std::uint8_t known = zstd;
}  // namespace block_flag

// Tagged fields (header, end, goroutine extensions): varint key = number << 3 | wire type.
namespace wire {
inline constexpr std::uint8_t varint = 0;
inline constexpr std::uint8_t bytes = 2;  // varint length, then the bytes
}  // namespace wire

namespace header_field {
inline constexpr std::uint32_t workload = 1;            // bytes
inline constexpr std::uint32_t command = 2;             // bytes, repeated: one per argument
inline constexpr std::uint32_t pid = 3;                 // zigzag varint
inline constexpr std::uint32_t interval_ns = 4;         // zigzag varint
inline constexpr std::uint32_t start = 5;               // bytes, RFC 3339
inline constexpr std::uint32_t start_unix_ns = 6;       // zigzag varint
inline constexpr std::uint32_t start_monotonic_ns = 7;  // zigzag varint
inline constexpr std::uint32_t workers = 8;             // zigzag varint
inline constexpr std::uint32_t runtime = 9;             // bytes
}  // namespace header_field

namespace end_field {
inline constexpr std::uint32_t samples = 1;      // varint
inline constexpr std::uint32_t reason = 2;       // varint, end_reason
inline constexpr std::uint32_t exit_status = 3;  // zigzag varint; absent: unknown
inline constexpr std::uint32_t signal = 4;       // zigzag varint; absent: not killed
}  // namespace end_field

// Sample payload: varint flags, varint seq, zigzag t_ns, snapshot_ns, pause_ns, varint
// goroutine count, varint n + n exited id deltas, varint n + n goroutine records.
namespace sample_flag {
inline constexpr std::uint64_t keyframe = 1;  // the state before it is empty
// The fields of column_fields are coded against the previous record's (see below). A reader of
// the revision before it rejects the bit ("unknown sample flags"), as every v2 reader has
// rejected unknown bits, so it cannot misread such a block: a flag suffices, not a version.
inline constexpr std::uint64_t columns = 2;
inline constexpr std::uint64_t known = keyframe | columns;
}  // namespace sample_flag

// A goroutine record: varint id delta, varint mask, then one value per set bit in bit order.
// Bit 0 says the goroutine is new; the others name the fields that differ from its baseline
// (the previous sample's values, or for a new goroutine zeros and created_ns = t_ns).
namespace field_bit {
inline constexpr std::uint64_t created = 1 << 0;      // no value
inline constexpr std::uint64_t state = 1 << 1;        // varint reason << 2 | state
inline constexpr std::uint64_t stack = 1 << 2;        // varint stack index
inline constexpr std::uint64_t wait_ns = 1 << 3;      // zigzag, actual - predicted
inline constexpr std::uint64_t resumes = 1 << 4;      // zigzag delta
inline constexpr std::uint64_t running_ns = 1 << 5;   // zigzag delta
inline constexpr std::uint64_t runnable_ns = 1 << 6;  // zigzag delta
inline constexpr std::uint64_t labels = 1 << 7;       // varint: 0 none, i + 1 label set i
inline constexpr std::uint64_t site = 1 << 8;         // varint site index
inline constexpr std::uint64_t parent = 1 << 9;       // zigzag delta (id - parent)
inline constexpr std::uint64_t created_ns = 1 << 10;  // zigzag delta
// varint length + tagged fields: per-goroutine fields added later; readers skip the ones they
// do not know, so adding one is not a format break.
inline constexpr std::uint64_t extension = 1 << 11;
inline constexpr std::uint64_t known = (1 << 12) - 1;
}  // namespace field_bit

// In a sample with sample_flag::columns, each of these (zigzag) fields stores zigzag(v - c)
// instead of zigzag(v), v being what it holds without the flag and c the v of the same field
// in the last record before it in the block that has the field (0 for the first), modulo 2^64.
// Goroutines woken one after another wait, queue and run alike, so their differences from the
// previous record take a byte or two where the values take five.
inline constexpr std::uint64_t column_fields = field_bit::wait_ns | field_bit::resumes |
                                               field_bit::running_ns | field_bit::runnable_ns |
                                               field_bit::parent | field_bit::created_ns;

// Tagged fields of a goroutine's extension (field_bit::extension). Like every field of a record,
// one is written only when it differs from the goroutine's baseline, so an unchanged value
// costs nothing.
namespace goroutine_field {
inline constexpr std::uint32_t blocked_on = 1;  // varint: the wait object's id, 0 none
}  // namespace goroutine_field

// Tagged fields after a sample's records, up to the end of the block. A reader of an earlier
// revision ignores these bytes; this one skips the fields it does not know.
namespace sample_field {
// bytes: the wait-for graph's changes since the previous sample (absent: none), see
// v2_wait_objects.hpp.
inline constexpr std::uint32_t objects = 1;
// bytes: the same for the objects of later kinds (is_extension_kind: timer, fd), kept apart so
// that readers from before them, which reject a kind they do not know, skip them.
inline constexpr std::uint32_t more_objects = 2;
}  // namespace sample_field

// Tagged fields of one wait object's record: each present field replaces the object's value
// (its previous one, or wait_object{}'s for a new object); absent fields are unchanged.
namespace object_field {
inline constexpr std::uint32_t kind = 1;          // varint wait_object_kind, 1..7
inline constexpr std::uint32_t flags = 2;         // varint, object_flag bits
inline constexpr std::uint32_t capacity = 3;      // varint
inline constexpr std::uint32_t count = 4;         // varint
inline constexpr std::uint32_t senders = 5;       // varint, at most 2^32 - 1
inline constexpr std::uint32_t receivers = 6;     // varint, at most 2^32 - 1
inline constexpr std::uint32_t handles = 7;       // varint, at most 2^32 - 1
inline constexpr std::uint32_t held_by = 8;       // bytes: id list
inline constexpr std::uint32_t owner = 9;         // varint goroutine id
inline constexpr std::uint32_t queue = 10;        // bytes: id list
inline constexpr std::uint32_t counter = 11;      // zigzag
inline constexpr std::uint32_t waiters = 12;      // varint, at most 2^32 - 1
inline constexpr std::uint32_t cases = 13;        // bytes: id list (object ids)
inline constexpr std::uint32_t send_cases = 14;   // bytes: id list (object ids)
inline constexpr std::uint32_t nil_cases = 15;    // varint, at most 2^32 - 1
inline constexpr std::uint32_t locked_at = 16;    // varint: 1 + frame id, 0 unknown
inline constexpr std::uint32_t timer = 17;        // varint: a channel's timer object id, 0 none
inline constexpr std::uint32_t when_ns = 18;      // zigzag
inline constexpr std::uint32_t period_ns = 19;    // zigzag
inline constexpr std::uint32_t fd = 20;           // zigzag, a 32-bit int
inline constexpr std::uint32_t direction = 21;    // varint: 0 read, 1 write
inline constexpr std::uint32_t last = direction;  // fields above are a later writer's: skipped
}  // namespace object_field
// An id list is zigzag deltas, each from the previous element (the first from 0), to the end
// of its bytes: ids that are close together (addresses, goroutine ids) take a byte or two.

namespace object_flag {
inline constexpr std::uint64_t closed = 1;  // channel
inline constexpr std::uint64_t locked = 2;  // mutex
inline constexpr std::uint64_t set = 4;     // event
inline constexpr std::uint64_t known = 7;
}  // namespace object_flag

// Keyframe defaults: a full sample every this many samples or this much recording time.
inline constexpr std::uint32_t default_keyframe_samples = 100;
inline constexpr std::int64_t default_keyframe_ns = 10'000'000'000;
// Blocks shorter than this are stored raw: zstd would not pay for its frame header.
inline constexpr std::size_t default_compress_min_bytes = 256;

}  // namespace gprofid::recording_format_v2
