#include "gprofid/detail/goroutine.hpp"

#include "gprofid/clock.hpp"

namespace gprofid {

goroutine::goroutine(std::uint64_t id_, std::uint64_t parent_id_, spawn_site site_,
                     label_ptr labels_, std::coroutine_handle<> root_,
                     promise_base* root_promise_) noexcept
    : id(id_),
      parent_id(parent_id_),
      site(site_),
      created_ns(monotonic_ns()),
      innermost(root_promise_),
      labels(std::move(labels_)),
      resume_point(root_),
      root(root_) {}

goroutine::~goroutine() {
  if (root) root.destroy();
}

}  // namespace gprofid
