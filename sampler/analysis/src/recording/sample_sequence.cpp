#include "gprofid/analysis/sample_sequence.hpp"

namespace gprofid {

std::string sample_sequence::where(const std::string& file, std::uint64_t at) const {
  return kind_ == position::line ? file + ":" + std::to_string(at)
                                 : file + ": offset " + std::to_string(at);
}

void sample_sequence::check(std::uint64_t seq, std::uint64_t at, const std::string& file,
                            std::vector<std::string>& warnings) {
  constexpr std::uint64_t max_warnings = 10;
  if (any_ && seq <= last_seq_) {
    if (++warned_ <= max_warnings) {
      warnings.push_back(
          where(file, at) + ": sample seq " + std::to_string(seq) +
          (seq == last_seq_ ? " repeats" : " goes back from " + std::to_string(last_seq_)) + " (" +
          (kind_ == position::line ? "line " : "offset ") + std::to_string(last_at_) + ")");
    } else if (warned_ == max_warnings + 1) {
      warnings.push_back(where(file, at) + ": more samples out of sequence (not listed)");
    }
  }
  any_ = true;
  last_seq_ = seq;
  last_at_ = at;
}

}  // namespace gprofid
