// The fast path of the v1 reader: a sample line parsed straight into a `sample`, without
// building a JSON DOM. It accepts only what the DOM path (recording_reader.cpp) accepts, with the
// same values; on anything it is not sure of (escapes, fractions, duplicate keys, a value out of
// range, an undefined reference, malformed JSON) it gives up and the DOM path reads the line,
// which keeps every error message and its FILE:LINE exactly as they were.
#pragma once

#include <string_view>

#include "gprofid/recording/sample.hpp"

namespace gprofid {

// True when `line` is a valid sample line, then `out` holds it (goroutines as listed, not yet
// sorted or checked for duplicate ids). False otherwise; `out` is then unspecified.
// `previous_labels` shares one label set between consecutive goroutines that have equal ones.
bool parse_sample_line_fast(std::string_view line, const symbol_tables& tables, sample& out,
                            label_ptr& previous_labels);

}  // namespace gprofid
