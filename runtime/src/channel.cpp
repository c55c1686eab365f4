#include "gprofid/channel.hpp"

#include <string>

namespace gprofid::detail {

void chan_handle::attach(chan_core* c) noexcept {
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
