// Build-time switches of the runtime.
#pragma once

// GPROFID_TRACKING=0 compiles out logical-stack and scheduling-counter upkeep (frames are not
// linked, co_await lines and run times are not recorded), leaving IDs and wait reasons. It exists
// to measure what tracking costs (`make bench`); snapshots of such a build have one-frame stacks.
#ifndef GPROFID_TRACKING
#define GPROFID_TRACKING 1
#endif
