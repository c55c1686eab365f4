// The wait-for graph in recording format v2 (docs/recording-format.md "Wait objects"): a sample
// stores only the objects that appeared, changed or went since the previous sample, and of a
// changed object only its changed fields, so an unchanged graph costs nothing.
#pragma once

#include <string>
#include <vector>

#include "gprofid/wait_object.hpp"

namespace gprofid::v2_wait_objects {

// Appends the changes from `before` to `now` (each sorted by id, ids unique), looking only at
// the objects of the extension kinds (`apart`, sample field more_objects) or only at the others
// (field objects): the ids of `before` that are not in `now`, then one record per new or
// changed object. Appends nothing and returns false when the two are equal.
bool append_changes(std::string& out, const std::vector<wait_object>& before,
                    const std::vector<wait_object>& now, bool apart);

}  // namespace gprofid::v2_wait_objects
