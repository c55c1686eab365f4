#include "cli/out_of_memory.hpp"

#include <cstdlib>
#include <new>

namespace gprofid::cli {
namespace {

// Large enough for the unwinding of a multi-million-node DOM; malloc'ed above the mmap threshold,
// so freeing it returns address space too (what `ulimit -v` counts). Never touched: it costs no
// physical memory.
constexpr std::size_t reserve_bytes = 32u << 20;
void* reserve = nullptr;  // written by main() before any thread, then by the handler only

void release_reserve_and_fail() {
  std::free(reserve);
  reserve = nullptr;
  // Once: a second failure has nothing left to release and is a plain bad_alloc.
  std::set_new_handler(nullptr);
  throw std::bad_alloc();
}

}  // namespace

void reserve_memory_for_errors() {
  if (reserve) return;
  reserve = std::malloc(reserve_bytes);
  if (reserve) std::set_new_handler(release_reserve_and_fail);
}

}  // namespace gprofid::cli
