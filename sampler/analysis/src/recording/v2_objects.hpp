// Decoding a v2 sample's wait-for graph (docs/recording-format.md "Wait objects"): the changes
// since the previous sample, applied to its objects. Private to the v2 reader.
#pragma once

#include <string_view>
#include <vector>

#include "gprofid/wait_object.hpp"

namespace gprofid::v2_decode {

// Applies the changes in `bytes` (the value of a sample's `objects` field) to `objects`, the
// previous sample's graph sorted by id, leaving this sample's there; `scratch` is reused
// storage; `frames` is how many frames the tables define so far. Throws decode_error at a
// position within `bytes`.
void apply_object_changes(std::string_view bytes, std::vector<wait_object>& objects,
                          std::vector<wait_object>& scratch, std::size_t frames);

}  // namespace gprofid::v2_decode
