// The order of a recording's samples: the writer numbers them 0, 1, 2..., so a seq that repeats
// or goes back is a sample recorded twice, two recordings spliced, or a hand edit. Such a file
// is still read, but whoever reads a diff of it should know: both readers (v1 and v2) pass each
// sample's seq through one of these, which adds a warning naming both positions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gprofid {

class sample_sequence {
 public:
  // How positions are named: "FILE:12: ... (line 11)" for v1, "FILE: offset 4096: ... (offset
  // 2048)" for v2.
  enum class position { line, offset };

  explicit sample_sequence(position kind) : kind_(kind) {}

  // The sample at `at` (a line number or a block offset) has sequence number `seq`. At most ten
  // warnings are written, then one saying that more are not listed.
  void check(std::uint64_t seq, std::uint64_t at, const std::string& file,
             std::vector<std::string>& warnings);

 private:
  std::string where(const std::string& file, std::uint64_t at) const;

  position kind_;
  bool any_ = false;
  std::uint64_t last_seq_ = 0;
  std::uint64_t last_at_ = 0;
  std::uint64_t warned_ = 0;
};

}  // namespace gprofid
