// Helpers shared by the sampler tests: a known program needs goroutines blocked at known lines.
#pragma once

#include <coroutine>
#include <mutex>
#include <vector>

#include "gprofid/detail/park.hpp"

namespace gprofid::testing {

// A one-shot gate built on park/ready, so goroutines block at a known line with a known reason
// (wait_reason::event) until release().
struct gate {
  std::mutex m;
  bool open = false;
  std::vector<goroutine*> waiters;

  struct awaiter {
    gate& g;
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) {
      {
        std::lock_guard guard(g.m);
        if (g.open) return false;
        g.waiters.push_back(current_goroutine());
      }
      park(h, wait_reason::event);
      return true;
    }
    void await_resume() const noexcept {}
  };
  awaiter wait() { return {*this}; }
  void release() {
    std::vector<goroutine*> woken;
    {
      std::lock_guard guard(m);
      open = true;
      woken.swap(waiters);
    }
    for (auto* w : woken) ready(w);
  }
};

}  // namespace gprofid::testing
