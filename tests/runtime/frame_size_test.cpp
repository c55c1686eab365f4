// Memory per parked goroutine, read from the binary (docs/performance.md, issue 14): the sizes of
// the control block and of frames shaped like the mem_parked benchmark's (bench_support.cpp's
// park_at and parked_root, copied on purpose: a frame's size follows its code's shape), so that
// a change which makes them grow fails here.
#include <doctest/doctest.h>

#include "gprofid/channel.hpp"
#include "gprofid/runtime.hpp"
#include "gprofid/task.hpp"
#include "gprofid/wait_group.hpp"

namespace gprofid {
namespace {

struct parked_like {
  chan<int> block = make_chan<int>();
  wait_group started;
  wait_group exited;
};

task<void> park_like(int depth, parked_like& p) {
  if (depth > 1) {
    co_await park_like(depth - 1, p);
    co_return;
  }
  p.started.done();
  co_await p.block.recv();
}

task<void> root_like(int depth, parked_like& p) {
  co_await park_like(depth, p);
  p.exited.done();
}

// The frame size a task's promise learned from its allocation (the frame is never started).
template <class T>
std::size_t frame_size_of(task<T> t) {
  auto h = t.release();
  const std::size_t size = h.promise().frame_size;
  h.destroy();
  return size;
}

TEST_CASE("frame sizes: a parked goroutine's control block and frames do not grow") {
  parked_like p;
  const std::size_t nested = frame_size_of(park_like(1, p));
  const std::size_t root = frame_size_of(root_like(1, p));
  MESSAGE("goroutine ", sizeof(goroutine), " B, root frame ", root, " B, nested frame ", nested,
          " B");
  CHECK(sizeof(goroutine) <= 192);
#if defined(__GNUC__) && !defined(__clang__)
  // GCC 12 (Clang overlaps the branches' temporaries and is smaller): 32 B of GCC's own, the
  // promise 32, the parameters 16, and what each co_await full-expression keeps. Before the
  // call site became a pointer argument of await_transform: 112 and 192.
  CHECK(root <= 104);
  CHECK(nested <= 176);
#endif
}

int line_of_callers_await() {
  return static_cast<int>(
      current_goroutine()->innermost->caller()->await_site.load(std::memory_order_relaxed).line());
}

task<int> report_callers_line() {
  co_return line_of_callers_await();
}

TEST_CASE("frame sizes: the call site passed as a pointer still names the co_await's line") {
  if constexpr (!GPROFID_TRACKING) return;
  int seen = 0;
  int expected = 0;
  runtime rt({.workers = 1});
  rt.run([](int& s, int& e) -> task<void> {
    e = __LINE__ + 1;
    s = co_await report_callers_line();
  }(seen, expected));
  CHECK(seen == expected);
}

}  // namespace
}  // namespace gprofid
