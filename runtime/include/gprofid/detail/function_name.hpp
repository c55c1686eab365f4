// Readable function names from std::source_location::function_name(). Inside a coroutine body
// g++ names the compiler-made actor ("void f(f(int)::_Z1fi.Frame*)"); users want "f(int)".
#pragma once

#include <string>
#include <string_view>

namespace gprofid {

// "task<void> ns::worker(int)" -> "ns::worker(int)";
// "void ns::worker(ns::worker(int)::_ZN2ns6workerEi.Frame*)" -> "ns::worker(int)".
std::string display_function_name(std::string_view pretty);

}  // namespace gprofid
