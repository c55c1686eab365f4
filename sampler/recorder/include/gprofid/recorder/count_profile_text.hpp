// Go's `/debug/pprof/goroutine?debug=1` text of one sample: goroutines with the same stack and
// labels counted together, largest count first:
//
//   goroutine profile: total 7
//   3 @ 0x4011a0 0x401210
//   # labels: {"role":"worker"}
//   #	0x4011a0	worker(int)	/src/w.cpp:12
//   #	0x401210	main_task()	/src/w.cpp:30
//
// A frame whose address is unknown prints 0x0; frames carry no "+offset" (a logical frame is a
// suspension point, not an instruction).
#pragma once

#include <string>
#include <string_view>

#include "gprofid/recording/sample.hpp"

namespace gprofid {

// `profile_name` heads the text as Go's does: "goroutineleak profile: total 2" for the leak
// profile's debug=1.
std::string format_count_profile(const sample& s, const symbol_tables& tables,
                                 std::string_view profile_name = "goroutine");

}  // namespace gprofid
