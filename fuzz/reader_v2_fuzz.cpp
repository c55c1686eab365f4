// Fuzz target: the v2 (binary) recording reader. Each input is read as it is and, when it starts
// like a v2 recording, again with every block's checksum recomputed: a mutation nearly always
// breaks a checksum first, and the decoder behind it would go untested. Any input must be read
// or rejected with recording_error; what is read must satisfy the invariants diff and the
// exporters rely on, reading it as changes must give the same, and seeking to a sample too.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

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

// The same recording read as changes (next_changes, current) in step with next(): the same
// samples, the same changes between them, and the same error at the same sample.
void read_as_changes(const std::string& bytes) {
  std::istringstream in_a(bytes), in_b(bytes);
  std::string error_a, error_b;
  std::optional<gprofid::recording_reader> a, b;
  try {
    a.emplace(in_a, "fuzz");
  } catch (const gprofid::recording_error& e) {
    error_a = e.what();
  }
  try {
    b.emplace(in_b, "fuzz");
  } catch (const gprofid::recording_error& e) {
    error_b = e.what();
  }
  check(error_a == error_b, "next_changes: the same header error");
  if (!a) return;
  gprofid::sample sa, sb, previous;
  gprofid::sample_changes c, want;
  for (bool more = true; more;) {
    bool got_a = false, got_b = false;
    error_a.clear();
    error_b.clear();
    try {
      got_a = a->next(sa);
    } catch (const gprofid::recording_error& e) {
      error_a = e.what();
    }
    try {
      got_b = b->next_changes(c);
      if (got_b) b->current(sb);
    } catch (const gprofid::recording_error& e) {
      error_b = e.what();
    }
    check(error_a == error_b && got_a == got_b, "next_changes: the same samples and errors");
    more = got_a && error_a.empty();
    if (!more) break;
    check(sa.goroutines.size() == sb.goroutines.size() && c.alive == sa.goroutines.size() &&
              sa.objects == sb.objects,
          "next_changes: current() is the sample next() returns");
    for (std::size_t i = 0; i < sa.goroutines.size(); ++i) {
      // Every field equal: unchanged() with the waits set aside (it predicts them).
      gprofid::goroutine_sample x = sa.goroutines[i], y = sb.goroutines[i];
      x.wait_ns = y.wait_ns = 0;
      check(gprofid::unchanged(x, y, 0) && sa.goroutines[i].wait_ns == sb.goroutines[i].wait_ns,
            "next_changes: the same goroutines");
    }
    gprofid::changes_between(previous.goroutines, previous.time_ns, sa.goroutines, sa.time_ns,
                             want);
    check(c.exited.size() == want.exited.size() && c.created.size() == want.created.size() &&
              c.changed_after.size() >= want.changed_after.size(),
          "next_changes: the changes between the samples");
    std::swap(previous, sa);
  }
}

// Seeking (skip_to, which starts from a keyframe and passes over the blocks before it): never
// a crash, a sample that satisfies the invariants, and where next() read up to that sample
// without an error, the same sample.
void read_by_seeking(const std::string& bytes) {
  std::vector<gprofid::sample> plain;
  try {
    std::istringstream in(bytes);
    gprofid::recording_reader reader(in, "fuzz");
    gprofid::sample s;
    while (reader.next(s)) plain.push_back(s);
  } catch (const gprofid::recording_error&) {
  }
  const std::size_t n = plain.size();
  for (const std::size_t target : {n / 2, n > 0 ? n - 1 : 0, n}) {
    try {
      std::istringstream in(bytes);
      gprofid::recording_reader reader(in, "fuzz");
      if (reader.skip_to(target)) {
        gprofid::sample s;
        reader.current(s);
        gprofid::fuzz::check_sample(s, reader.tables(), bytes.size());
        if (target < plain.size()) {
          check(
              s.seq == plain[target].seq && s.goroutines.size() == plain[target].goroutines.size(),
              "skip_to: the sample next() reads");
        }
      }
      reader.skip_rest();
    } catch (const gprofid::recording_error&) {
    }
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
    read_as_changes(bytes);
    read_by_seeking(bytes);
  }
  return 0;
}
