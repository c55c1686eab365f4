// The slow paths of the block pool (detail/block_pool.hpp): the shared depot, slabs, and giving
// blocks back when a thread exits.
#include "gprofid/detail/block_pool.hpp"

#include <mutex>
#include <type_traits>

namespace gprofid::detail {
namespace {

// A slab: this header, then pool_batch blocks of one class.
struct slab {
  slab* next;
  std::size_t bytes;
};
static_assert(sizeof(slab) % 16 == 0, "blocks must start 16-byte aligned");

struct depot {
  std::mutex m;  // guards the rest; a leaf lock (nothing is taken while it is held)
  pool_block* free = nullptr;
  std::size_t free_count = 0;
  std::size_t carved = 0;  // blocks in `slabs`
  slab* slabs = nullptr;
};
// Never destroyed, so threads that exit after main (or free blocks from their own exit) still
// find it: trivially destructible, as std::mutex is here.
static_assert(std::is_trivially_destructible_v<depot>);
constinit depot depots[pool_classes];

void flush(std::size_t cls) noexcept;

// Gives the thread's blocks back when it exits; the cache itself outlives it (trivial).
struct exit_handler {
  exit_handler() = default;
  exit_handler(const exit_handler&) = delete;
  exit_handler& operator=(const exit_handler&) = delete;
  ~exit_handler() {
    pool_cache.exiting = true;
    pool_cache.limit = 0;
    for (std::size_t cls = 0; cls < pool_classes; ++cls) flush(cls);
  }
};

// The thread's first slow path: arms the exit handler, then lets the cache hold blocks.
void enroll(pool_thread_cache& c) noexcept {
  if (c.limit != 0 || c.exiting) return;
  thread_local exit_handler handler;
  (void)handler;
  c.limit = 2 * pool_batch;
}

// With d.m held: frees the class's slabs if every block is back. Blocks are then only in
// d.free, which is dropped with them.
void release_if_unused(depot& d) noexcept {
  if (d.carved == 0 || d.free_count != d.carved) return;
  for (slab* s = d.slabs; s;) {
    slab* next = s->next;
    ::operator delete(static_cast<void*>(s), s->bytes);
    s = next;
  }
  d.slabs = nullptr;
  d.free = nullptr;
  d.free_count = 0;
  d.carved = 0;
}

// Moves `n` blocks (n >= 1) from the head of the thread's list of `cls` to the depot.
void move_to_depot(std::size_t cls, std::uint32_t n) noexcept {
  pool_thread_cache& c = pool_cache;
  pool_block* first = c.head[cls];
  pool_block* last = first;
  for (std::uint32_t i = 1; i < n; ++i) last = last->next;
  c.head[cls] = last->next;
  c.count[cls] -= n;
  depot& d = depots[cls];
  std::lock_guard guard(d.m);
  last->next = d.free;
  d.free = first;
  d.free_count += n;
  release_if_unused(d);
}

void flush(std::size_t cls) noexcept {
  if (pool_cache.count[cls] != 0) move_to_depot(cls, pool_cache.count[cls]);
}

}  // namespace

void* pool_refill(std::size_t cls) {
  pool_thread_cache& c = pool_cache;
  enroll(c);
  depot& d = depots[cls];
  // An exiting thread keeps nothing: it takes one block.
  const std::uint32_t want = c.exiting ? 1 : pool_batch;
  pool_block* chain = nullptr;
  std::uint32_t got = 0;
  {
    std::lock_guard guard(d.m);
    while (got < want && d.free) {
      pool_block* b = d.free;
      d.free = b->next;
      b->next = chain;
      chain = b;
      ++got;
    }
    d.free_count -= got;
  }
  if (got == 0) {
    // A new slab, carved outside the lock.
    const std::size_t block = cls * pool_granule;
    const std::size_t bytes = sizeof(slab) + pool_batch * block;
    auto* s = static_cast<slab*>(::operator new(bytes));
    s->bytes = bytes;
    char* base = reinterpret_cast<char*>(s) + sizeof(slab);
    for (std::uint32_t i = pool_batch; i-- > 0;) {
      auto* b = reinterpret_cast<pool_block*>(base + i * block);
      b->next = chain;
      chain = b;
    }
    got = pool_batch;
    pool_block* spare = nullptr;
    std::uint32_t spares = 0;
    if (got > want) {
      spare = chain->next;
      spares = got - 1;
      chain->next = nullptr;
      got = 1;
    }
    std::lock_guard guard(d.m);
    s->next = d.slabs;
    d.slabs = s;
    d.carved += pool_batch;
    if (spare) {
      pool_block* last = spare;
      while (last->next) last = last->next;
      last->next = d.free;
      d.free = spare;
      d.free_count += spares;
    }
  }
  c.head[cls] = chain->next;
  c.count[cls] = got - 1;
  return chain;
}

void pool_spill(std::size_t cls) noexcept {
  pool_thread_cache& c = pool_cache;
  enroll(c);
  if (c.count[cls] <= c.limit) return;  // just enrolled
  // Keep pool_batch (the least recently freed), give back the rest.
  move_to_depot(cls, c.limit == 0 ? c.count[cls] : c.count[cls] - pool_batch);
}

void pool_give_back() noexcept {
  for (std::size_t cls = 0; cls < pool_classes; ++cls) flush(cls);
}

pool_class_stats pool_stats(std::size_t size) noexcept {
  depot& d = depots[pool_class(size)];
  std::lock_guard guard(d.m);
  return {d.carved, d.free_count};
}

}  // namespace gprofid::detail
