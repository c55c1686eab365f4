// An intrusive FIFO of parked goroutines, shared by the sync primitives. Nodes live in the
// awaiters (inside the suspended coroutine frames), so queueing a waiter never allocates.
#pragma once

#include "gprofid/detail/goroutine.hpp"
#include "gprofid/detail/park.hpp"

namespace gprofid::detail {

struct waiter {
  goroutine* g = nullptr;
  waiter* next = nullptr;
};

// Not synchronised: the owning primitive guards it with its own lock.
class waiter_queue {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  // The oldest waiter (follow `next`), for the snapshot's wait-for graph.
  const waiter* front() const noexcept { return head_; }

  void push_back(waiter* w) noexcept {
    w->next = nullptr;
    if (tail_) {
      tail_->next = w;
    } else {
      head_ = w;
    }
    tail_ = w;
  }

  waiter* pop_front() noexcept {
    waiter* w = head_;
    if (w) {
      head_ = w->next;
      if (!head_) tail_ = nullptr;
    }
    return w;
  }

  // Detaches every waiter, oldest first, for waking outside the primitive's lock.
  waiter* take_all() noexcept {
    waiter* chain = head_;
    head_ = tail_ = nullptr;
    return chain;
  }

 private:
  waiter* head_ = nullptr;
  waiter* tail_ = nullptr;
};

// Wakes a detached chain. Each link is read before ready(): once woken, a goroutine may run on
// another worker and free the frame holding its node.
inline void ready_all(waiter* chain) noexcept {
  while (chain) {
    waiter* next = chain->next;
    ready(chain->g);
    chain = next;
  }
}

}  // namespace gprofid::detail
