#include "wait_graph.hpp"

#include <algorithm>
#include <mutex>

#include "gprofid/channel.hpp"
#include "gprofid/detail/poller.hpp"
#include "gprofid/event.hpp"
#include "gprofid/mutex.hpp"
#include "gprofid/select.hpp"
#include "gprofid/sleep.hpp"
#include "gprofid/task.hpp"
#include "gprofid/wait_group.hpp"

namespace gprofid::detail {

// Reads the private state of the primitives (each befriends it). Every function is called with
// the lock of a goroutine parked on the object held, which keeps the object alive.
struct wait_inspector {
  // The channel's state under its lock (and that of the timer that sends on it, if any, into
  // `timer`), then the addresses of its handles under their (leaf) lock; returns the handle
  // list's change count.
  static std::uint64_t channel(const chan_core& c_const, wait_object& o,
                               std::vector<std::uintptr_t>& handles, wait_object& timer) {
    auto& c = const_cast<chan_core&>(c_const);  // only its locks are taken
    {
      std::lock_guard guard(c.lock);
      o.capacity = c.cap;
      o.count = c.count;
      o.closed = c.closed;
      o.senders = c.sendq.size();
      o.receivers = c.recvq.size();
      if (c.timer_when != 0) {
        timer.when_ns = c.timer_when;
        timer.period_ns = c.timer_period;
      }
    }
    std::lock_guard guard(c.handles_lock);
    o.handles = c.handle_count;
    for (const chan_handle* h = c.handles; h; h = h->next_) {
      handles.push_back(reinterpret_cast<std::uintptr_t>(h));
    }
    return c.handle_changes;
  }

  // What channel() returns, alone: the re-read of finish() compares only that.
  static std::uint64_t channel_version(const chan_core& c_const) {
    auto& c = const_cast<chan_core&>(c_const);  // only its lock is taken
    std::lock_guard guard(c.handles_lock);
    return c.handle_changes;
  }

  static std::uint64_t mutex_state(const gprofid::mutex& m_const, wait_object* o,
                                   std::source_location* site = nullptr) {
    auto& m = const_cast<gprofid::mutex&>(m_const);  // only its queue lock is taken
    std::lock_guard guard(m.queue_lock_);
    const std::uint64_t owner = m.owner_.load(std::memory_order_relaxed);
    if (site) *site = m.owner_site_.load(std::memory_order_relaxed);
    if (o) {
      o->locked = m.state_.load(std::memory_order_relaxed) != gprofid::mutex::unlocked;
      o->owner = owner;
      for (const waiter* w = m.waiters_.front(); w; w = w->next) o->queue.push_back(w->g->id);
    }
    return owner;
  }

  static void wait_group_state(const gprofid::wait_group& wg, wait_object& o) {
    const auto s = wg.state_.load(std::memory_order_acquire);
    o.counter = gprofid::wait_group::count_of(s);
    o.waiters = static_cast<std::uint32_t>((s & gprofid::wait_group::waiter_mask) /
                                           gprofid::wait_group::waiter_one);
  }

  static void event_state(const gprofid::event& e, wait_object& o) {
    o.set = (e.state_.load(std::memory_order_acquire) & gprofid::event::set_bit) != 0;
  }

  // A sleep's deadline: fixed while its goroutine is parked.
  static void sleep_state(const gprofid::sleep_awaiter& s, wait_object& o) {
    o.when_ns = s.deadline_.time_since_epoch().count();
  }

  // Fixed at the descriptor's registration: no lock.
  static void fd_state(const io_queue& q, wait_object& o) {
    o.fd = q.fd;
    o.write = q.direction == io_direction::write;
  }
};

namespace {

std::uint64_t id_of(const void* p) {
  return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(p));
}

}  // namespace

std::pair<std::size_t, bool> address_index::try_emplace(const void* key, std::size_t value) {
  if ((used_ + 1) * 2 > slots_.size()) grow();
  const std::size_t mask = slots_.size() - 1;
  // Fibonacci hashing of the address: objects are 8-aligned and often a fixed stride apart.
  for (std::size_t i = (reinterpret_cast<std::uintptr_t>(key) * 0x9E3779B97F4A7C15ull) >> 20;;
       ++i) {
    slot& s = slots_[i & mask];
    if (s.key == key) return {s.value, false};
    if (!s.key) {
      s = {key, value};
      ++used_;
      return {value, true};
    }
  }
}

void address_index::grow() {
  std::vector<slot> old =
      std::exchange(slots_, std::vector<slot>(std::max<std::size_t>(64, slots_.size() * 2)));
  used_ = 0;
  for (const slot& s : old) {
    if (s.key) try_emplace(s.key, s.value);
  }
}

void wait_graph_capture::reserve(std::size_t n) {
  parked_.reserve(n);
  // Many goroutines may share one object: room for the first few thousand, then doubling.
  const std::size_t objects = std::min<std::size_t>(n, 4096);
  reads_.reserve(objects);
  objects_.reserve(objects);
}

std::uint64_t wait_graph_capture::read_object(wait_object_kind kind, const void* object,
                                              std::size_t reader) {
  const auto [at, fresh] = index_.try_emplace(object, objects_.size());
  if (!fresh) return objects_[at].id;
  objects_.emplace_back();
  objects_[at].id = id_of(object);
  objects_[at].kind = kind;
  read rd{at, reader, object, 0, handles_.size(), handles_.size(), {}, SIZE_MAX};
  switch (kind) {
    case wait_object_kind::channel: {
      const auto& c = *static_cast<const chan_core*>(object);
      wait_object timer;
      rd.version = wait_inspector::channel(c, objects_[at], handles_, timer);
      rd.handles_end = handles_.size();
      if (timer.when_ns != 0) {
        // The timer is part of the channel (chan_core::timer_when): named by that field's
        // address, read with the channel, and kept or dropped with it.
        const void* at_field = &c.timer_when;
        timer.id = id_of(at_field);
        timer.kind = wait_object_kind::timer;
        objects_[at].timer = timer.id;
        if (index_.try_emplace(at_field, objects_.size()).second) {
          rd.timer = objects_.size();
          objects_.push_back(std::move(timer));
        }
      }
      break;
    }
    case wait_object_kind::timer:
      wait_inspector::sleep_state(*static_cast<const gprofid::sleep_awaiter*>(object),
                                  objects_[at]);
      break;
    case wait_object_kind::fd:
      wait_inspector::fd_state(*static_cast<const io_queue*>(object), objects_[at]);
      break;
    case wait_object_kind::mutex:
      rd.version = wait_inspector::mutex_state(*static_cast<const gprofid::mutex*>(object),
                                               &objects_[at], &rd.site);
      break;
    case wait_object_kind::wait_group:
      wait_inspector::wait_group_state(*static_cast<const gprofid::wait_group*>(object),
                                       objects_[at]);
      break;
    case wait_object_kind::event:
      wait_inspector::event_state(*static_cast<const gprofid::event*>(object), objects_[at]);
      break;
    case wait_object_kind::select: {
      // The select's frame is part of the parked goroutine's frame: stable while it is parked.
      const auto& f = *static_cast<const select_frame*>(object);
      std::uint32_t nil_cases = 0;
      std::vector<std::uint64_t> sends;
      for (std::size_t i = 0; i < f.n; ++i) {
        const select_case* c = f.cases[i];
        if (c && !c->core) ++nil_cases;
        if (c && c->core && c->is_send) sends.push_back(id_of(c->core));
      }
      std::sort(sends.begin(), sends.end());
      sends.erase(std::unique(sends.begin(), sends.end()), sends.end());
      std::vector<std::uint64_t> cases;
      for (std::size_t k = 0; k < f.nlocks; ++k) {
        cases.push_back(read_object(wait_object_kind::channel, f.locks[k], reader));
      }
      objects_[at].nil_cases = nil_cases;  // objects_ may have grown: index again
      objects_[at].cases = std::move(cases);
      objects_[at].send_cases = std::move(sends);
      break;
    }
    case wait_object_kind::none:
      break;
  }
  reads_.push_back(rd);
  return id_of(object);
}

std::uint64_t wait_graph_capture::note(goroutine* g, std::uint64_t resumes, std::size_t record) {
  const void* object = g->blocked_object.load(std::memory_order_seq_cst);
  if (!object) return 0;
  const std::size_t reader = parked_.size();
  parked_.push_back({g, resumes, object, record});
  return read_object(g->blocked_kind, object, reader);
}

void wait_graph_capture::note_waiting(goroutine* g, goroutine_record& r, std::size_t index) {
  r.blocked_on = note(g, r.resumes, index);
}

bool wait_graph_capture::note_unchanged(goroutine* g) {
  if (g->status.load(std::memory_order_acquire) != run_status::waiting) return false;
  return note(g, g->resumes.load(std::memory_order_relaxed), no_record) != 0;
}

std::vector<goroutine*> wait_graph_capture::parked_goroutines() const {
  std::vector<goroutine*> out;
  out.reserve(parked_.size());
  for (const parked& p : parked_) out.push_back(p.g);
  return out;
}

bool wait_graph_capture::still_parked(const parked& p) const {
  // Parked throughout: not resumed (resumes counts every run) and not even woken.
  return p.g->status.load(std::memory_order_acquire) == run_status::waiting &&
         p.g->resumes.load(std::memory_order_relaxed) == p.resumes &&
         p.g->blocked_object.load(std::memory_order_seq_cst) == p.object;
}

void wait_graph_capture::finish(snapshot& snap, std::vector<snapshot_delta::wait_edge>* waits) {
  // Every channel handle read, sorted by address, to find the frames that hold them: the
  // handles are few, the parked goroutines' frames many, so each frame is looked up among the
  // handles rather than the frames sorted.
  struct handle_ref {
    std::uintptr_t address;
    std::size_t read;  // index into reads_
  };
  std::vector<handle_ref> handles;
  handles.reserve(handles_.size());
  for (std::size_t k = 0; k < reads_.size(); ++k) {
    for (std::size_t h = reads_[k].handles_begin; h < reads_[k].handles_end; ++h) {
      handles.push_back({handles_[h], k});
    }
  }
  std::sort(handles.begin(), handles.end(),
            [](const handle_ref& a, const handle_ref& b) { return a.address < b.address; });
  struct holder {
    std::size_t read;
    std::uint64_t id;
  };
  std::vector<holder> held;

  // 1. Which goroutines stayed parked from their record to now, and which objects provably did
  //    not change (re-read under the lock of the goroutine that read them first); the handles
  //    inside the frames of goroutines parked throughout belong to them (their frames cannot
  //    change while they are parked, and are read under the same lock).
  std::vector<std::uint8_t> stable(parked_.size(), 0);
  std::vector<std::uint8_t> object_ok(objects_.size(), 1);
  std::size_t k = 0;  // reads_ are in the order of their readers (note() appends both)
  for (std::size_t i = 0; i < parked_.size(); ++i) {
    const parked& p = parked_[i];
    std::lock_guard guard(p.g->lock);
    stable[i] = still_parked(p);
    for (; k < reads_.size() && reads_[k].reader == i; ++k) {
      const read& rd = reads_[k];
      if (!stable[i]) {
        object_ok[rd.object] = 0;  // cannot be re-read safely: leave it out
        continue;
      }
      const wait_object& o = objects_[rd.object];
      std::uint64_t now = rd.version;
      if (o.kind == wait_object_kind::channel) {
        now = wait_inspector::channel_version(*static_cast<const chan_core*>(rd.address));
      } else if (o.kind == wait_object_kind::mutex) {
        now = wait_inspector::mutex_state(*static_cast<const gprofid::mutex*>(rd.address), nullptr);
      }
      if (now != rd.version) object_ok[rd.object] = 0;
    }
    if (!stable[i] || handles.empty()) continue;
    // Only frames that may hold handles are looked in (promise_base::may_hold_handles): the
    // innermost (read for the stack key anyway), the root if its goroutine says it may, and
    // every frame only if one between them may.
    auto look_in = [&](const promise_base* f) {
      if (!f->frame_size || !f->may_hold_handles.load(std::memory_order_relaxed)) return;
      const auto begin = reinterpret_cast<std::uintptr_t>(f->frame());
      const auto end = begin + f->frame_size;
      auto h =
          std::lower_bound(handles.begin(), handles.end(), begin,
                           [](const handle_ref& r, std::uintptr_t v) { return r.address < v; });
      for (; h != handles.end() && h->address < end; ++h) held.push_back({h->read, p.g->id});
    };
    const promise_base* root = root_promise(*p.g);
    const promise_base* inner = p.g->innermost ? p.g->innermost : root;
    const std::uint8_t flags = p.g->flags.load(std::memory_order_relaxed);
    if (flags & goroutine_flag::inner_frames_hold_handles) {
      for (const promise_base* f = inner; f; f = f->caller()) look_in(f);
    } else {
      look_in(inner);
      if (root != inner && (flags & goroutine_flag::root_holds_handles)) look_in(root);
    }
  }

  // A channel's timer was read with it: it goes with it.
  for (const read& rd : reads_) {
    if (rd.timer != SIZE_MAX && !object_ok[rd.object]) object_ok[rd.timer] = 0;
  }

  // 2. The holders of the objects that stay in the graph.
  std::vector<std::size_t> holding;  // objects with holders
  for (const holder& h : held) {
    const std::size_t object = reads_[h.read].object;
    if (!object_ok[object]) continue;
    if (objects_[object].held_by.empty()) holding.push_back(object);
    objects_[object].held_by.push_back(h.id);
  }
  for (std::size_t object : holding) {
    std::sort(objects_[object].held_by.begin(), objects_[object].held_by.end());
  }

  // 3. What changed is not part of the graph: its waiters point nowhere.
  std::vector<std::uint64_t> dropped;
  for (std::size_t i = 0; i < objects_.size(); ++i) {
    if (!object_ok[i]) dropped.push_back(objects_[i].id);
  }
  std::sort(dropped.begin(), dropped.end());
  for (std::size_t i = 0; i < parked_.size(); ++i) {
    const parked& p = parked_[i];
    // read_object names every object it is handed by its address.
    const std::uint64_t on =
        p.record != no_record ? snap.goroutines[p.record].blocked_on : id_of(p.object);
    const std::uint64_t kept =
        !stable[i] || std::binary_search(dropped.begin(), dropped.end(), on) ? 0 : on;
    if (p.record != no_record) {
      snap.goroutines[p.record].blocked_on = kept;
    } else if (waits) {
      waits->push_back({p.g->id, kept});
    }
  }
  if (waits) {
    std::sort(waits->begin(), waits->end(),
              [](const auto& a, const auto& b) { return a.id < b.id; });
  }
  for (const read& rd : reads_) {
    const wait_object& o = objects_[rd.object];
    if (object_ok[rd.object] && o.kind == wait_object_kind::mutex && o.locked && o.owner != 0 &&
        rd.site.line() != 0) {
      snap.lock_sites.push_back({o.id, rd.site});
    }
  }
  std::sort(snap.lock_sites.begin(), snap.lock_sites.end(),
            [](const auto& a, const auto& b) { return a.object < b.object; });
  // In id order, each object moved once (sorting the objects themselves moved each ~log n
  // times, a third of the graph's cost with one channel per goroutine).
  std::vector<std::pair<std::uint64_t, std::size_t>> order;
  order.reserve(objects_.size());
  for (std::size_t i = 0; i < objects_.size(); ++i) {
    if (object_ok[i]) order.emplace_back(objects_[i].id, i);
  }
  std::sort(order.begin(), order.end());
  // The walks hand over a snapshot without objects: appending keeps it in id order.
  snap.objects.reserve(order.size());
  for (const auto& [id, i] : order) snap.objects.push_back(std::move(objects_[i]));
}

}  // namespace gprofid::detail
