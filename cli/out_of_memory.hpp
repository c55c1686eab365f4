// Out of memory as one error line, not an abort. When an allocation first fails, a reserve taken
// at start-up is released and the failure becomes std::bad_alloc, so that the unwinding it
// starts has memory to finish in (destructors may allocate: nlohmann's DOM frees itself through
// a heap-allocated stack, and an allocation failing in a destructor is std::terminate) and
// main() can print `gprof-id COMMAND: out of memory`.
#pragma once

namespace gprofid::cli {

// Call once, first thing in main().
void reserve_memory_for_errors();

}  // namespace gprofid::cli
