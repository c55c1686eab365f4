// The wait-for graph of a v1 sample line (`objects`, `more_objects`) read by the fast path, with
// the values and the acceptance of the DOM path's read_object (recording_reader.cpp).
#pragma once

#include <cstddef>
#include <vector>

#include "gprofid/recording/sample.hpp"
#include "gprofid/wait_object.hpp"
#include "jsonl_scanner.hpp"

namespace gprofid::jsonl_fast {

// Reads the objects of the array at `sc` (of `more_objects` when `apart`, where an object of a
// kind this reader does not know is skipped) into out[used], out[used + 1], ..., advancing
// `used`; elements already there are overwritten, keeping their lists' memory. False: give up,
// the DOM path reads the line.
bool read_objects(scanner& sc, const symbol_tables& tables, bool apart,
                  std::vector<wait_object>& out, std::size_t& used);

// Keeps the first `used` objects and sorts them by id; false when two share one (an error,
// which the DOM path reports).
bool sort_objects(std::vector<wait_object>& objects, std::size_t used);

}  // namespace gprofid::jsonl_fast
