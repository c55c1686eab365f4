#include "gprofid/detail/block_pool.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

namespace gprofid::detail {
namespace {

// Sizes no other allocation of the test binary uses, so their classes' counts are the test's
// (once this thread has given back what the first test case left in its lists).
constexpr std::size_t odd_size = 1000;
constexpr std::size_t other_odd_size = 984;

TEST_CASE("block pool: every size gets a block aligned as its size allows, reused once freed") {
  for (std::size_t size = 1; size <= pool_max_block + 64; size += 7) {
    void* p = pool_allocate(size);
    const auto address = reinterpret_cast<std::uintptr_t>(p);
    CHECK(address % 8 == 0);
    if (size % 16 == 0) CHECK(address % 16 == 0);
    std::memset(p, 0xab, size);  // the whole block is the caller's
    pool_free(p, size);
#if GPROFID_POOL
    if (size <= pool_max_block) {
      void* again = pool_allocate(size);
      CHECK(again == p);  // the thread's list hands back its last free block first
      pool_free(again, size);
    }
#endif
  }
}

#if GPROFID_POOL
TEST_CASE("block pool: a thread's blocks go back when it exits; a class nobody uses is freed") {
  pool_give_back();
  REQUIRE(pool_stats(odd_size).carved == 0);
  std::size_t carved_while_live = 0;
  std::thread t([&] {
    std::vector<void*> blocks;
    for (int i = 0; i < 1000; ++i) blocks.push_back(pool_allocate(odd_size));
    carved_while_live = pool_stats(odd_size).carved;
    for (void* p : blocks) pool_free(p, odd_size);
    // The thread keeps at most two batches; the rest is in the depot already.
    const auto s = pool_stats(odd_size);
    CHECK(s.carved - s.in_depot <= 2 * pool_batch);
  });
  t.join();
  CHECK(carved_while_live >= 1000);
  CHECK(carved_while_live < 1000 + pool_batch);  // one slab of slack at most
  CHECK(pool_stats(odd_size).carved == 0);
}

TEST_CASE("block pool: blocks freed on another thread are given back by that thread") {
  pool_give_back();
  REQUIRE(pool_stats(other_odd_size).carved == 0);
  std::vector<void*> blocks;
  std::thread t([&] {
    for (int i = 0; i < 500; ++i) blocks.push_back(pool_allocate(other_odd_size));
  });
  t.join();
  // The allocating thread is gone; its blocks are live here.
  CHECK(pool_stats(other_odd_size).carved >= 500);
  for (void* p : blocks) pool_free(p, other_odd_size);
  CHECK(pool_stats(other_odd_size).carved != 0);  // this thread still holds some
  pool_give_back();
  CHECK(pool_stats(other_odd_size).carved == 0);
}
#endif

}  // namespace
}  // namespace gprofid::detail
