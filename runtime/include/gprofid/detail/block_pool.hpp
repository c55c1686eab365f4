// A size-class pool for what every goroutine allocates: its control block and its coroutine
// frames. malloc puts an 8-byte header before every chunk and rounds the chunk to 16 bytes; a
// pool block has no header (its size comes back with the sized delete) and is rounded to 8
// bytes only, 8-24 bytes less per allocation (docs/performance.md, memory per parked goroutine).
//
// Each thread keeps a free list per size class, so the fast path of an allocation or a free is
// a few instructions on thread-local data, with no lock and no atomic. A thread hands blocks to
// and takes them from a shared depot (one mutex per class) pool_batch at a time; a thread that
// exits gives its blocks back. Memory is never handed to another size class: the pool holds at
// most what its busiest moment held, plus up to 2 * pool_batch blocks per class in each thread,
// and frees a class's slabs once every block of the class is back in the depot (a runtime's
// destructor gives back its thread's blocks, so a process that ends its runtimes ends with an
// empty pool). Under AddressSanitizer it is plain operator new and delete, so that ASan still
// sees every use after free and every leak.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define GPROFID_POOL 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GPROFID_POOL 0
#endif
#endif
#ifndef GPROFID_POOL
#define GPROFID_POOL 1
#endif

namespace gprofid::detail {

inline constexpr std::size_t pool_granule = 8;
// A free block holds the link of its free list; the slab's blocks are 16-byte aligned where
// their size is a multiple of 16 (an object whose alignment is 16 has such a size).
inline constexpr std::size_t pool_min_block = 16;
// Larger requests go to operator new.
inline constexpr std::size_t pool_max_block = 1024;
inline constexpr std::size_t pool_classes = pool_max_block / pool_granule + 1;
// Blocks a thread exchanges with the depot at once, and blocks per slab.
inline constexpr std::uint32_t pool_batch = 64;

struct pool_block {
  pool_block* next;
};

// One thread's free lists. Trivially destructible, so it stays usable while the thread's
// other thread_local objects are destroyed (they may free blocks); `limit` is 0 before the
// thread's first slow path and again after its exit handler gave everything back, which sends
// every free of such a thread straight to the depot.
struct pool_thread_cache {
  pool_block* head[pool_classes];
  std::uint32_t count[pool_classes];
  std::uint32_t limit;
  bool exiting;
};
inline constinit thread_local pool_thread_cache pool_cache{};

constexpr std::size_t pool_class(std::size_t size) noexcept {
  return ((size < pool_min_block ? pool_min_block : size) + pool_granule - 1) / pool_granule;
}

// The slow paths (block_pool.cpp): a thread's list of `cls` is empty, or over its limit.
void* pool_refill(std::size_t cls);
void pool_spill(std::size_t cls) noexcept;

inline void* pool_allocate(std::size_t size) {
#if GPROFID_POOL
  if (size <= pool_max_block) {
    const std::size_t cls = pool_class(size);
    pool_thread_cache& c = pool_cache;
    if (pool_block* b = c.head[cls]) {
      c.head[cls] = b->next;
      --c.count[cls];
      return b;
    }
    return pool_refill(cls);
  }
#endif
  return ::operator new(size);
}

// `size` must be the size the block was allocated with.
inline void pool_free(void* p, std::size_t size) noexcept {
#if GPROFID_POOL
  if (size <= pool_max_block) {
    const std::size_t cls = pool_class(size);
    pool_thread_cache& c = pool_cache;
    auto* b = static_cast<pool_block*>(p);
    b->next = c.head[cls];
    c.head[cls] = b;
    if (++c.count[cls] > c.limit) pool_spill(cls);
    return;
  }
#endif
  ::operator delete(p, size);
}

// Gives the calling thread's blocks back to the depot, and frees the slabs of every class whose
// blocks are then all back (a runtime's destructor calls it).
void pool_give_back() noexcept;

// For tests: blocks of `size`'s class in slabs, and of those, blocks in the depot.
struct pool_class_stats {
  std::size_t carved = 0;
  std::size_t in_depot = 0;
};
pool_class_stats pool_stats(std::size_t size) noexcept;

}  // namespace gprofid::detail
