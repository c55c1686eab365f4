// Every live goroutine, in shards so that spawn and exit on different workers do not contend.
// Also the allocator of goroutine control blocks: while a snapshot is walking, exited goroutines
// are retired instead of freed, so the walker never touches freed memory.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "gprofid/detail/goroutine.hpp"

namespace gprofid {

class registry {
 public:
  explicit registry(std::size_t shards);
  ~registry();
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  std::uint64_t next_id() noexcept { return next_id_.fetch_add(1, std::memory_order_relaxed); }

  goroutine* create(std::uint64_t id, std::uint64_t parent_id, spawn_site site, label_ptr labels,
                    std::coroutine_handle<> root, promise_base* root_promise, std::size_t shard);
  // Unlinks and frees (or retires, while a walk is active) a goroutine that has finished.
  void destroy(goroutine* g) noexcept;
  // Frees every goroutine still registered; only once no worker runs any of them.
  void destroy_all() noexcept;

  std::size_t live() const noexcept { return live_.load(std::memory_order_relaxed); }

  // Walking for snapshots. begin_walk() returns the new epoch; between begin and end, control
  // blocks stay valid even if their goroutine exits. collect() gathers pointers in short
  // critical sections so that spawns and exits are never held up for long.
  std::uint64_t begin_walk() noexcept;
  // Returns the longest time it held any shard's lock.
  std::int64_t collect(std::vector<goroutine*>& out);
  void end_walk() noexcept;
  std::uint64_t epoch() const noexcept { return epoch_.load(std::memory_order_acquire); }
  bool walking() const noexcept { return walkers_.load(std::memory_order_acquire) != 0; }

 private:
  struct alignas(64) shard_list {
    std::mutex m;
    goroutine* head = nullptr;
  };
  void free_retired() noexcept;

  std::vector<std::unique_ptr<shard_list>> shards_;
  alignas(64) std::atomic<std::uint64_t> next_id_{1};
  alignas(64) std::atomic<std::size_t> live_{0};
  std::atomic<std::uint64_t> epoch_{0};
  std::atomic<int> walkers_{0};
  std::mutex retired_m_;
  goroutine* retired_ = nullptr;
};

}  // namespace gprofid
