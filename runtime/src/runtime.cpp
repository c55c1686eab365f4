#include "gprofid/runtime.hpp"

#include <cxxabi.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <typeinfo>

#include "gprofid/clock.hpp"
#include "gprofid/detail/function_name.hpp"
#include "gprofid/detail/park.hpp"
#include "gprofid/environment.hpp"
#include "gprofid/traceback.hpp"
#include "gprofid/traceback_text.hpp"
#include "reactor.hpp"
#include "registry.hpp"
#include "scheduler.hpp"

// Defined by the sampler's auto_record (when linked in) to record this process when launched by
// `gprof-id record`; the runtime must not depend on the sampler, hence a weak symbol.
extern "C" void gprofid_runtime_started(gprofid::runtime* rt) __attribute__((weak));

namespace gprofid {
namespace {

thread_local bool teardown_thread = false;

std::size_t default_workers(std::size_t requested) {
  if (requested != 0) return requested;
  if (const char* env = std::getenv(environment::workers.data())) {
    char* end = nullptr;
    unsigned long n = std::strtoul(env, &end, 10);
    if (end != env && *end == '\0' && n > 0 && n <= 1024) return n;
    std::fprintf(stderr, "gprof-id: ignoring GPROFID_WORKERS=%s (want 1..1024)\n", env);
  }
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

std::uint64_t default_select_seed(std::uint64_t requested) {
  if (requested != 0) return requested;
  if (const char* env = std::getenv(environment::select_seed.data())) {
    char* end = nullptr;
    unsigned long long n = std::strtoull(env, &end, 10);
    if (env[0] >= '0' && env[0] <= '9' && *end == '\0' && n > 0) return n;
    std::fprintf(stderr, "gprof-id: ignoring GPROFID_SELECT_SEED=%s (want a positive integer)\n",
                 env);
  }
  return 0;
}

std::string exception_text(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (const char* text) {  // throw "text"; Go's panic("text") prints the text as well
    return text ? text : "null const char*";
  } catch (const std::string& text) {
    return text;
  } catch (...) {
    // Not a std::exception (throw 42): its type, as Go prints a panic value's, demangled.
    const std::type_info* type = abi::__cxa_current_exception_type();
    if (!type) return "unknown exception";
    int status = 0;
    std::unique_ptr<char, decltype(&std::free)> name(
        abi::__cxa_demangle(type->name(), nullptr, nullptr, &status), &std::free);
    return std::string("exception of type ") + (status == 0 && name ? name.get() : type->name());
  }
}

}  // namespace

namespace detail {

bool tearing_down() noexcept {
  return teardown_thread;
}

void root_finished() noexcept {
  if (auto* ctx = this_worker()) ctx->last = outcome::finished;
}

void note_escaping_exception(promise_base& p) noexcept {
  if (!p.linked) return;
  if (goroutine* g = current_goroutine()) scheduler_of(*g).owner().note_panic(*g, p);
}

}  // namespace detail

void runtime::note_panic(goroutine& g, const promise_base& p) noexcept {
  try {
    const std::exception_ptr& e = detail::escaping_exception;  // p's, just set
    if (!registry_->is_new_panic(g, e)) return;                // unwinding on through the callers
    std::vector<stack_frame> frames;
    {
      std::lock_guard guard(g.lock);
      for (const promise_base* f = &p; f; f = f->caller()) {
        frames.push_back({f->function, f->await_site.load(std::memory_order_relaxed), f->pc()});
      }
    }
    registry_->note_panic(g, {e, format_stack(frames)});
  } catch (...) {
    registry_->forget_panic(g);  // out of memory: the report will lack the stack
  }
}

runtime::runtime(runtime_options options)
    : options_(std::move(options)),
      started_ns_(monotonic_ns()),
      registry_(std::make_unique<registry>(default_workers(options_.workers) + 1)),
      sched_(std::make_unique<scheduler>(*this, default_workers(options_.workers))),
      reactor_(std::make_unique<reactor>(options_.manual_clock, started_ns_)) {
  // Before the workers start: each seeds its select choices from it on first use.
  options_.select_seed = default_select_seed(options_.select_seed);
  reactor_->start();
  sched_->start();
  if (gprofid_runtime_started) gprofid_runtime_started(this);
}

runtime::~runtime() {
  for (auto& s : services_) s->stop();
  sched_->stop();
  // After the workers (nothing adds timers any more), before the goroutines its timers and
  // sockets point at are freed.
  reactor_->stop();
  teardown_thread = true;
  registry_->destroy_all();
  reactor_->discard_timers();
  teardown_thread = false;
  // The workers gave theirs back as they exited: a pool class none of it uses is freed now.
  detail::pool_give_back();
}

std::size_t runtime::workers() const noexcept {
  return sched_->workers();
}

std::size_t runtime::live_goroutines() const noexcept {
  return registry_->live();
}

std::int64_t runtime::now_ns() const noexcept {
  return reactor_->now_ns();
}

void runtime::advance_clock(std::chrono::nanoseconds d) {
  reactor_->advance_clock(d.count());
}

runtime* runtime::current() noexcept {
  auto* ctx = detail::this_worker();
  return ctx ? &ctx->sched->owner() : nullptr;
}

void runtime::add_service(std::unique_ptr<runtime_service> s) {
  s->start(*this);
  services_.push_back(std::move(s));
}

std::uint64_t runtime::spawn(task<void> t, std::source_location site) {
  return spawn(std::move(t), spawn_site{site, __builtin_return_address(0)});
}

std::uint64_t runtime::spawn(task<void> t, spawn_site site) {
  goroutine* g = create(std::move(t), site);
  std::uint64_t id = g->id;  // g may run and exit as soon as it is scheduled
  sched_->schedule(g);
  return id;
}

goroutine* runtime::create(task<void> t, spawn_site site) {
  auto h = t.release();
  goroutine* parent = current_goroutine();
  auto* ctx = detail::this_worker();
  std::size_t shard = ctx && ctx->sched == sched_.get() ? ctx->index : sched_->workers();
  goroutine* g = registry_->create(registry_->next_id(), parent ? parent->id : 0, site,
                                   parent ? parent->labels : nullptr, h, &h.promise(), shard);
  g->sched_index = sched_->index();
  h.promise().linked = true;
  return g;
}

void runtime::run(task<void> main, std::source_location site) {
  if (ran_) throw std::logic_error("gprofid::runtime::run called twice");
  ran_ = true;
  goroutine* g = create(std::move(main), spawn_site{site, __builtin_return_address(0)});
  main_id_ = g->id;
  sched_->schedule(g);
  {
    std::unique_lock lock(main_m_);
    main_cv_.wait(lock, [&] { return main_done_; });
  }
  for (auto& s : services_) s->stop();
  services_.clear();
  sched_->stop();
  reactor_->stop();
  if (main_exception_) std::rethrow_exception(main_exception_);
}

void runtime::handle_failure(goroutine* g, const std::exception_ptr& e) {
  goroutine_failure f;
  f.id = g->id;
  f.site = g->site;
  f.what = exception_text(e);
  f.report = "panic: " + f.what + "\n\ngoroutine " + std::to_string(g->id) + " [running]:\n" +
             registry_->panic_stack(*g);
  f.report +=
      format_created_by(display_function_name(g->site.location.function_name()),
                        g->site.location.file_name(), g->site.location.line(), g->parent_id);
  if (options_.on_failure) options_.on_failure(f);
  std::fputs(f.report.c_str(), stderr);
  if (options_.on_exception == exception_policy::abort) std::abort();
}

void runtime::finish(goroutine* g) noexcept {
  const bool is_main = g->id == main_id_;
  // The root frame's exception, handed over on this thread as it finished (see
  // detail::escaping_exception).
  std::exception_ptr e;
  if (detail::root_promise(*g)->failed) e = std::exchange(detail::escaping_exception, nullptr);
  if (e && !is_main) handle_failure(g, e);
  registry_->forget_panic(*g);
  {
    std::lock_guard guard(g->lock);
    record_exiting(g);
    g->status.store(run_status::dead, std::memory_order_release);
  }
  if (is_main) {
    // As Go exits when main returns: nothing else runs from now on. Others may point into
    // main's frame (a listener, a wait_group), gone already, and run() stops services before
    // the workers, which takes a while when a recorder writes its last sample.
    sched_->halt();
    std::lock_guard guard(main_m_);
    main_exception_ = std::move(e);
    main_done_ = true;
    main_cv_.notify_all();
  }
  registry_->destroy(g);
}

void runtime::report_lost(goroutine* g) noexcept {
  std::fprintf(stderr,
               "gprof-id: goroutine %llu suspended on an awaitable that bypasses the runtime; "
               "it will never be resumed\n",
               static_cast<unsigned long long>(g->id));
  g->status.store(run_status::waiting, std::memory_order_release);
}

std::uint64_t go(task<void> t, std::source_location site) {
  runtime* rt = runtime::current();
  if (!rt) throw std::logic_error("gprofid::go called outside a goroutine; use runtime::spawn");
  return rt->spawn(std::move(t), spawn_site{site, __builtin_return_address(0)});
}

}  // namespace gprofid
