// gprofid_churn_recording OUT N SAMPLES [jsonl|v2] [steady]: writes the synthetic churn of
// tests/support (N goroutines parked, each sample 10% run, 1% exit, 1% are new, 10 ms apart) as a
// recording file, one sample at a time, for timing the CLI on recordings larger than memory
// would hold as samples (docs/performance.md). The churn's population decays (1% of the ids
// exit each sample, 1% of those alive are new); `steady` tops it up to N every sample, so a long
// recording holds N goroutines throughout and ever more exited ones. Not installed.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "gprofid/recording/recording_writer.hpp"
#include "gprofid/testing/synthetic_churn.hpp"

int main(int argc, char** argv) {
  using namespace gprofid;
  if (argc < 4 || argc > 6) {
    std::fprintf(stderr, "usage: %s OUT N SAMPLES [jsonl|v2] [steady]\n", argv[0]);
    return 2;
  }
  const long long n = std::atoll(argv[2]);
  const long long samples = std::atoll(argv[3]);
  const auto encoding = parse_recording_encoding(argc >= 5 ? argv[4] : "v2");
  const bool steady = argc == 6 && std::string(argv[5]) == "steady";
  if (n < 1 || samples < 1 || !encoding || (argc == 6 && !steady)) {
    std::fprintf(stderr,
                 "%s: N and SAMPLES must be positive, the format jsonl or v2, then steady\n",
                 argv[0]);
    return 2;
  }
  try {
    recording_writer w = recording_writer::create(argv[1], *encoding);
    recording_header h;
    h.workload = "churn";
    h.interval_ns = 10'000'000;
    w.write_header(h);
    const symbol_tables t = testing::churn_tables();
    sample s = testing::churn_samples(n, 1).front();
    std::uint64_t next_id = static_cast<std::uint64_t>(n) + 1;
    for (long long i = 0; i < samples; ++i) {
      if (i > 0) s = testing::churn_step(s, next_id, 10'000'000);
      while (steady && s.goroutines.size() < static_cast<std::size_t>(n)) {
        s.goroutines.push_back(testing::churn_goroutine(next_id++, s.time_ns));
      }
      w.write_sample(s, t);
    }
    w.write_end({.samples = static_cast<std::uint64_t>(samples), .exit_status = 0, .signal = {}});
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", argv[0], e.what());
    return 1;
  }
  return 0;
}
