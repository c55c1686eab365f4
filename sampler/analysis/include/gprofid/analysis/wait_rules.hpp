// The rules every report shares for "did this goroutine run between two samples": a wait that
// continues (stuck material) and a run that continues (never yielded). One implementation, used
// by the pair diff and the summary, so that they never disagree.
#pragma once

#include <cstdint>

#include "gprofid/recording/sample.hpp"
#include "gprofid/saturating.hpp"  // times from recordings may be hostile: saturate

namespace gprofid {

// When the wait a goroutine is in at a sample began (the sample's time minus wait_ns).
std::int64_t wait_start(const goroutine_sample& g, std::int64_t sample_time_ns) noexcept;

// Whether `b` (a later sample of the same goroutine) is the same wait as `a`: waiting in both,
// with the same reason and stack, not resumed in between (same `resumes`), and the same wait
// start when both samples know it. A goroutine that woke and came back to the same line is a
// new wait, not a continuing one.
bool wait_continues(const goroutine_sample& a, std::int64_t a_time_ns, const goroutine_sample& b,
                    std::int64_t b_time_ns, const symbol_tables& tables) noexcept;

// Whether it held its worker from `a` to `b`: running at both instants and never resumed in
// between (tokio-console's "never yielded").
bool run_continues(const goroutine_sample& a, const goroutine_sample& b) noexcept;

}  // namespace gprofid
