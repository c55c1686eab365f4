// A cache hint for lookups in a known order (the summary's, the sampler's). GCC 12 at -O2 drops
// __builtin_prefetch of an address loaded through a container (a vector's data pointer plus an
// index: no prefetcht0 is emitted, checked with -S), so on x86-64 the instruction is written out.
#pragma once

namespace gprofid {

inline void prefetch_line(const void* p) noexcept {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p);
#endif
}

}  // namespace gprofid
