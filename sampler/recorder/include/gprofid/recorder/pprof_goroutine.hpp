// A pprof goroutine profile of one sample, encoded in the recorded program (served by the HTTP
// debug service as /debug/pprof/goroutine) without libprotobuf: the same uncompressed bytes as
// the offline export's pprof_goroutine_profile_uncompressed (export_pprof.hpp), which documents
// the labels (goid, parent_goid, state, wait_reason, wait_ns, gopc, the goroutine's labels).
// tests/sampler/recorder/pprof_goroutine_test.cpp holds the two to byte equality.
#pragma once

#include <string>

#include "gprofid/recording/pprof_source.hpp"
#include "gprofid/recording/sample.hpp"

namespace gprofid {

// The serialized profile.proto message, not compressed (gzip it for a .pb.gz).
std::string encode_pprof_goroutine_profile(const symbol_tables& tables, const sample& s,
                                           const pprof_source& source = {});

// Go 1.26's goroutineleak profile: as above, of only the goroutines the sample's wait-for graph
// proves leaked (diagnose(), wait_graph.hpp), labelled leak_rule and blocked_on; the bytes of
// the export's pprof_goroutineleak_profile_uncompressed.
std::string encode_pprof_goroutineleak_profile(const symbol_tables& tables, const sample& s,
                                               const pprof_source& source = {});

}  // namespace gprofid
