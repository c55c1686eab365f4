// Exports one sample as a pprof goroutine profile (gzip-compressed profile.proto): one pprof
// sample per goroutine, labelled with its id, parent, state and spawn site, for `go tool pprof`.
#pragma once

#include <cstdint>
#include <string>

#include "gprofid/recording/sample.hpp"

namespace gprofid {

// The gzip-compressed serialized profile (a .pb.gz file's contents). Every goroutine of `s`
// becomes one pprof sample of value 1 whose locations are its logical stack, with string labels
// goid, parent_goid, state, wait_reason, gopc and the goroutine's own labels, and numeric labels
// goid and parent_goid (so that `-tagfocus goid=42` selects exactly goroutine 42) and, while
// waiting, wait_ns. `start_unix_ns` is the recording's start (header start_unix_ns); when
// non-zero the profile's time is the sample's wall-clock time.
std::string pprof_goroutine_profile(const symbol_tables& tables, const sample& s,
                                    std::int64_t start_unix_ns = 0);

// The uncompressed serialized profile, for tests and for tools that gzip themselves.
std::string pprof_goroutine_profile_uncompressed(const symbol_tables& tables, const sample& s,
                                                 std::int64_t start_unix_ns = 0);

}  // namespace gprofid
