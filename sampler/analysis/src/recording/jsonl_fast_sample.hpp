// The fast path of the v1 reader: a sample line parsed straight into a `sample`, without
// building a JSON DOM. It accepts only what the DOM path (recording_reader.cpp) accepts, with the
// same values; on anything it is not sure of (escapes, fractions, duplicate keys, a value out of
// range, an undefined reference, malformed JSON) it gives up and the DOM path reads the line,
// which keeps every error message and its FILE:LINE exactly as they were.
#pragma once

#include <string_view>

#include "gprofid/recording/sample.hpp"
#include "jsonl_label_cache.hpp"

namespace gprofid {

// True when `line` is a valid sample line, then `out` holds it (goroutines as listed, not yet
// sorted or checked for duplicate ids; its wait-for graph sorted by id). False otherwise; `out` is
// then unspecified.
// `label_sets` holds the label sets of the samples before, shared with the goroutines that have
// them.
bool parse_sample_line_fast(std::string_view line, const symbol_tables& tables, sample& out,
                            jsonl_fast::label_cache& label_sets);

}  // namespace gprofid
