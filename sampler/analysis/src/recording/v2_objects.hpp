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
// `apart`: the bytes are the more_objects field (the later kinds, where an unknown kind is
// kept rather than an error).
void apply_object_changes(std::string_view bytes, std::vector<wait_object>& objects,
                          std::vector<wait_object>& scratch, std::size_t frames, bool apart);

// The sample's graph: `objects` and `more_objects` (each sorted by id) merged by id, without
// the objects of kinds this reader does not know. Throws decode_error (at 0) if an id is in
// both.
void merge_graphs(const std::vector<wait_object>& objects,
                  const std::vector<wait_object>& more_objects, std::vector<wait_object>& out);

}  // namespace gprofid::v2_decode
