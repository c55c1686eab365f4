#include "gprofid/detail/function_name.hpp"

#include <doctest/doctest.h>

namespace gprofid {
namespace {

TEST_CASE("display_function_name strips return types and coroutine actor wrappers") {
  CHECK(display_function_name("gprofid::task<void> ns::worker(int)") == "ns::worker(int)");
  CHECK(display_function_name("void ns::worker(ns::worker(int)::_ZN2ns6workerEi.Frame*)") ==
        "ns::worker(int)");
  CHECK(display_function_name(
            "void f()::<lambda(int)>::operator()(f()::<lambda(int)>::_ZZ1fvENKUliE_clEi.Frame*)") ==
        "f()::<lambda(int)>");
  CHECK(display_function_name("main()::<lambda(int)>") == "main()::<lambda(int)>");
  CHECK(display_function_name("std::pair<int, int> pairs(std::vector<int>)") ==
        "pairs(std::vector<int>)");
  CHECK(display_function_name("int main()") == "main()");
}

TEST_CASE("a coroutine's actor is named as qualified as the coroutine's own frames") {
  // GCC qualifies the ramp signature inside an actor's name only as far as the ramp's own scope.
  CHECK(display_function_name("void ns::{anonymous}::pipeline(pipeline(ctx)::"
                              "_ZN2ns12_GLOBAL__N_18pipelineENS0_3ctxE.Frame*)") ==
        "ns::{anonymous}::pipeline(ctx)");
  CHECK(display_function_name("void ns::C::run(C::run(int)::_ZN2ns1C3runEi.Frame*)") ==
        "ns::C::run(int)");
  CHECK(display_function_name("gprofid::task<void> ns::{anonymous}::pipeline(ctx)") ==
        "ns::{anonymous}::pipeline(ctx)");
}

}  // namespace
}  // namespace gprofid
