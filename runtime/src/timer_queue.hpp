// The pending timers of a runtime: a 4-ary min-heap ordered by (deadline, insertion order), with
// lazy cancellation, so insert is O(log n) and cancel O(1). Not thread-safe; the reactor locks it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace gprofid {

// Names one pushed timer; stays harmless after the timer fired or was cancelled.
struct timer_id {
  std::uint32_t slot = UINT32_MAX;
  std::uint32_t gen = 0;
  bool valid() const noexcept { return slot != UINT32_MAX; }
};

class timer_queue {
 public:
  using callback = std::function<void()>;

  timer_id push(std::int64_t deadline_ns, callback cb);
  // True if the timer was still pending (it will now never be popped).
  bool cancel(timer_id id) noexcept;
  // The earliest pending deadline.
  std::optional<std::int64_t> next_deadline() noexcept;
  // Pops the earliest timer if its deadline is <= now_ns; equal deadlines pop in push order.
  std::optional<callback> pop_due(std::int64_t now_ns);

  std::size_t size() const noexcept { return live_; }
  bool empty() const noexcept { return live_ == 0; }
  void clear() noexcept;

 private:
  // 16 bytes, so a node's four children share about one cache line.
  struct entry {
    std::int64_t deadline;
    std::uint32_t seq;  // push order; compared with wrap-around
    std::uint32_t slot;
  };
  // A slot stays reserved while its heap entry exists, even after cancellation, so an entry is
  // stale exactly when its slot is no longer pending.
  struct slot_meta {
    std::uint32_t gen = 0;
    bool pending = false;
  };

  static bool before(const entry& a, const entry& b) noexcept {
    return a.deadline < b.deadline ||
           (a.deadline == b.deadline && static_cast<std::int32_t>(a.seq - b.seq) < 0);
  }
  bool stale(const entry& e) const noexcept { return !meta_[e.slot].pending; }
  void sift_up(std::size_t i) noexcept;
  void sift_down(std::size_t i) noexcept;
  void pop_top() noexcept;
  void prune_top() noexcept;
  void compact() noexcept;

  std::vector<entry> heap_;
  std::vector<slot_meta> meta_;
  std::vector<callback> callbacks_;  // by slot
  std::vector<std::uint32_t> free_slots_;
  std::uint32_t next_seq_ = 0;
  std::size_t live_ = 0;
};

}  // namespace gprofid
