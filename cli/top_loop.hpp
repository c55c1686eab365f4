// The event loop of `gprof-id top`: keys, samples arriving from a live program, replay's play
// timer, resizes and SIGINT/SIGTERM, turned into calls on the session and redraws.
#pragma once

#include "cli/top_screen.hpp"
#include "gprofid/analysis/top_session.hpp"

namespace gprofid::cli {

class top_live_source;

// Runs until q, SIGINT or SIGTERM; `live` is null when replaying. Returns the exit status.
// The screen must exist (the terminal is taken) and `interrupts` be in place.
int run_top_loop(top_screen& screen, top_session& session, top_live_source* live, top_view view,
                 int signal_fd);

}  // namespace gprofid::cli
