// The summary's live goroutines by id are an id_table of ids to slots (gprofid/recording, where
// the sampler uses it too).
#pragma once

#include "gprofid/recording/id_table.hpp"

namespace gprofid {

using summary_id_table = id_table;

}  // namespace gprofid
