// The wait-for graph's diagnosis moved to the recording library (gprofid/recording/wait_graph.hpp)
// so that a recorded program can serve the goroutineleak profile without the analysis library;
// this name stays for the analysis' own users.
#pragma once

#include "gprofid/recording/wait_graph.hpp"
