#include "runtime/runtime.hpp"
