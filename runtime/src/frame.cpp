#include "gprofid/detail/frame.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "gprofid/detail/function_name.hpp"

namespace gprofid::detail {

void report_misplaced_frame(const std::source_location& fn) noexcept {
  const std::string name = display_function_name(fn.function_name());
  std::fprintf(stderr,
               "gprof-id: the compiler laid out the frame of coroutine %s (%s:%u) where no "
               "coroutine handle can resume it (a GCC 12 bug: a parameter or `this` used in a "
               "co_await inside an if/while/for/switch condition); bind the result first, e.g. "
               "`auto v = co_await ch.recv(); if (!v) break;` or `while (auto v = co_await "
               "ch.recv())` (docs/runtime.md)\n",
               name.c_str(), fn.file_name(), static_cast<unsigned>(fn.line()));
  std::abort();
}

}  // namespace gprofid::detail
