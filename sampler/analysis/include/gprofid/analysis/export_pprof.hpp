// Exports one sample as a pprof goroutine profile (gzip-compressed profile.proto) like Go's own
// (sample type goroutine/count): one pprof sample per goroutine, labelled with its id, parent,
// state and spawn site, for `go tool pprof` and the tools that read Go's profiles.
#pragma once

#include <cstdint>
#include <string>

#include "gprofid/recording/pprof_source.hpp"
#include "gprofid/recording/sample.hpp"

namespace gprofid {

// The gzip-compressed serialized profile (a .pb.gz file's contents). Every goroutine of `s`
// becomes one pprof sample of value 1 whose locations are its logical stack, with string labels
// state, wait_reason, gopc and the goroutine's own labels, and numeric labels goid and
// parent_goid (`-tagfocus goid=42` selects goroutine 42, `parent_goid=0` those spawned from
// outside any goroutine) and, while waiting, wait_ns. Each label once, so `-tags` counts each
// goroutine once. The profile's time is the sample's wall-clock time when the start is known.
std::string pprof_goroutine_profile(const symbol_tables& tables, const sample& s,
                                    const pprof_source& source = {});

// The uncompressed serialized profile, for tests and for tools that gzip themselves.
std::string pprof_goroutine_profile_uncompressed(const symbol_tables& tables, const sample& s,
                                                 const pprof_source& source = {});

// A goroutineleak profile like Go's (runtime/pprof "goroutineleak", Go 1.26+): as the goroutine
// profile, but of only the goroutines the sample's wait-for graph proves can never run again
// (diagnose(s).leaked, docs/wait-graph.md), with sample type and period type
// goroutineleak/count, and two more text labels: leak_rule (`closed-set`, `nil-wait`) and, when
// parked on an object, blocked_on (its id, "0x7f3a2c001040"). No samples when none is proven.
std::string pprof_goroutineleak_profile(const symbol_tables& tables, const sample& s,
                                        const pprof_source& source = {});
std::string pprof_goroutineleak_profile_uncompressed(const symbol_tables& tables, const sample& s,
                                                     const pprof_source& source = {});

}  // namespace gprofid
