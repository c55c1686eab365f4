#include "gprofid/channel.hpp"

#include <cstdint>
#include <string>

#include "gprofid/detail/goroutine.hpp"

namespace gprofid::detail {

namespace {

bool inside(const void* address, const void* begin, std::size_t size) noexcept {
  const auto a = reinterpret_cast<std::uintptr_t>(address);
  const auto b = reinterpret_cast<std::uintptr_t>(begin);
  return a >= b && a - b < size;
}

// A handle made at `address`: if that is inside the running goroutine's innermost frame, or
// inside the frame this thread is creating (its parameters are copied in before its promise
// exists), that frame may hold handles (promise_base::may_hold_handles). A handle placed in a
// frame otherwise (through a reference into a caller's frame, from another goroutine) is not
// noticed, and so not attributed: its channel then counts as reachable, never as leaked.
void note_handle_address(const void* address) noexcept {
  if constexpr (GPROFID_TRACKING) {
    if (goroutine* g = current_goroutine()) {
      promise_base* f = g->innermost;  // written only by this thread while g runs
      if (f && f->frame_size && inside(address, f->frame(), f->frame_size)) {
        f->may_hold_handles.store(true, std::memory_order_relaxed);
        return;
      }
    }
  }
  frame_allocation& a = last_frame_allocation;
  if (inside(address, a.address, a.size)) a.holds_handles = true;
}

}  // namespace

void chan_handle::attach(chan_core* c) noexcept {
  note_handle_address(this);
  std::lock_guard guard(c->handles_lock);
  prev_ = nullptr;
  next_ = c->handles;
  if (next_) next_->prev_ = this;
  c->handles = this;
  ++c->handle_count;
  ++c->handle_changes;
}

void chan_handle::detach(chan_core* c) noexcept {
  std::lock_guard guard(c->handles_lock);
  if (prev_) {
    prev_->next_ = next_;
  } else {
    c->handles = next_;
  }
  if (next_) next_->prev_ = prev_;
  prev_ = next_ = nullptr;
  --c->handle_count;
  ++c->handle_changes;
}

void chan_handle::replace(chan_core* c, chan_handle& from) noexcept {
  note_handle_address(this);
  std::lock_guard guard(c->handles_lock);
  prev_ = from.prev_;
  next_ = from.next_;
  if (prev_) {
    prev_->next_ = this;
  } else {
    c->handles = this;
  }
  if (next_) next_->prev_ = this;
  from.prev_ = from.next_ = nullptr;
  ++c->handle_changes;  // the handle moved: another address holds it now
}

void wait_queue::push(waiter_node* n) noexcept {
  n->next = nullptr;
  n->prev = tail_;
  if (tail_) {
    tail_->next = n;
  } else {
    head_ = n;
  }
  tail_ = n;
  n->linked = true;
  ++size_;
}

void wait_queue::remove(waiter_node* n) noexcept {
  if (n->prev) {
    n->prev->next = n->next;
  } else {
    head_ = n->next;
  }
  if (n->next) {
    n->next->prev = n->prev;
  } else {
    tail_ = n->prev;
  }
  n->prev = n->next = nullptr;
  n->linked = false;
  --size_;
}

waiter_node* wait_queue::pop() noexcept {
  while (waiter_node* n = head_) {
    remove(n);
    if (!n->in_select) return n;
    auto* s = static_cast<select_waiter_node*>(n);
    int expected = -1;
    if (s->sel->winner.compare_exchange_strong(expected, s->case_index,
                                               std::memory_order_acq_rel)) {
      return n;
    }
    // Another channel already completed this select; it will find the node unlinked.
  }
  return nullptr;
}

waiter_node* chan_core::close_locked() {
  if (closed) throw channel_closed("close of closed channel");
  closed = true;
  waiter_node* woken = nullptr;
  waiter_node** tail = &woken;  // wake in queue order
  for (wait_queue* q : {&recvq, &sendq}) {
    while (waiter_node* n = q->pop()) {
      n->closed = true;  // a receiver's slot is still empty: it sees nullopt
      *tail = n;
      tail = &n->next;
    }
  }
  return woken;
}

void wake_all(waiter_node* list) noexcept {
  while (list) {
    // The node lives in the woken frame: read it before ready() lets that frame run.
    waiter_node* next = list->next;
    ready(list->g);
    list = next;
  }
}

void require_goroutine(const char* what) {
  if (!current_goroutine()) {
    throw std::logic_error(std::string("gprofid: ") + what + " outside a goroutine would block");
  }
}

}  // namespace gprofid::detail
