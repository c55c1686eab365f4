// Fuzz target: the v2 (binary) recording reader. Each input is read as it is and, when it starts
// like a v2 recording, again with every block's checksum recomputed: a mutation nearly always
// breaks a checksum first, and the decoder behind it would go untested. Any input must be read
// or rejected with recording_error; what is read must satisfy the invariants diff and the
// exporters rely on.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "fuzz_check.hpp"
#include "gprofid/analysis/recording_reader.hpp"
#include "gprofid/recording/recording_format_v2.hpp"
#include "gprofid/recording/v2_blocks.hpp"

using gprofid::fuzz::check;

namespace {

void read_checked(const std::string& bytes) {
  std::istringstream in(bytes);
  try {
    gprofid::recording_reader reader(in, "fuzz");
    gprofid::sample s;
    while (reader.next(s)) gprofid::fuzz::check_sample(s, reader.tables(), bytes.size());
    check(!reader.next(s), "next() stays false at the end");
  } catch (const gprofid::recording_error&) {
    // Rejected with a message: fine.
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  read_checked(bytes);
  if (!bytes.empty() &&
      static_cast<unsigned char>(bytes[0]) == gprofid::recording_format_v2::first_byte) {
    gprofid::v2_blocks::reseal(bytes);
    read_checked(bytes);
  }
  return 0;
}
