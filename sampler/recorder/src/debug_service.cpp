#include "gprofid/recorder/debug_service.hpp"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include "gprofid/environment.hpp"
#include "gprofid/recorder/debug_protocol.hpp"
#include "gprofid/recorder/periodic_sampler.hpp"
#include "gprofid/recorder/profile.hpp"

namespace gprofid {

struct debug_service::client {
  explicit client(int f) : fd(f) {}
  int fd;
  std::thread thread;
  std::atomic<bool> done{false};  // set by the client thread as its last act
};

namespace {

// How often a recording client thread looks at its sampler, its client and stop().
constexpr int record_poll_ms = 50;

[[noreturn]] void fail(const std::string& what, int err) {
  throw std::system_error(err, std::generic_category(), what);
}

timeval to_timeval(std::int64_t ns) {
  return {static_cast<time_t>(ns / 1'000'000'000),
          static_cast<suseconds_t>(ns % 1'000'000'000 / 1000)};
}

void set_timeout(int fd, int option, std::int64_t ns) {
  const timeval tv = to_timeval(ns);
  ::setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv);
}

// Best effort: the client may be gone, and must not stall us either way.
void send_error(int fd, std::string_view reason) {
  std::string line = std::string(debug_error_prefix) + std::string(reason) + "\n";
  (void)!::send(fd, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

std::string parent_dir(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

recording_options attach_options(const debug_request& r) {
  recording_options o;
  o.sampling = {
      .interval_ns = r.interval_ns, .max_samples = r.max_samples, .max_duration_ns = r.duration_ns};
  o.command_line = own_command_line();
  if (!o.command_line.empty()) o.workload = o.command_line.front();
  return o;
}

}  // namespace

debug_service::debug_service(debug_service_options options)
    : options_(std::move(options)), snapshot_rate_(options_.snapshots) {}

debug_service::~debug_service() {
  stop();
}

void debug_service::start(runtime& rt) {
  rt_ = &rt;
  const bool default_path = options_.socket_path.empty();
  path_ = default_path
              ? debug_socket_path(debug_socket_dir(std::getenv("XDG_RUNTIME_DIR")), ::getpid())
              : options_.socket_path;
  ensure_private_debug_dir(parent_dir(path_), default_path);
  // Sockets of killed programs of this user would pile up in the directory otherwise.
  if (default_path) remove_stale_debug_sockets(parent_dir(path_));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path_.size() >= sizeof addr.sun_path)
    fail(path_ + ": path too long for a socket", ENAMETOOLONG);
  std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
  // A socket left by a process that had our PID before (killed, so it could not remove it), or
  // by a service of this process that stopped; one that is served is not ours to take.
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) fail(path_ + " exists and is not a socket", EEXIST);
    if (debug_socket_listened(path_)) fail("another debug service listens on " + path_, EADDRINUSE);
    ::unlink(path_.c_str());
  }
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) fail("socket", errno);
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC);
  if (stop_fd_ < 0) fail("eventfd", errno);
  if (::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
    fail("bind " + path_, errno);
  // The directory is private, so the moment between bind and chmod exposes nothing.
  if (::chmod(path_.c_str(), 0600) != 0 || ::listen(listen_fd_, 16) != 0) {
    const int err = errno;
    ::unlink(path_.c_str());
    fail(path_, err);
  }
  thread_ = std::thread([this] {
    // A client that hangs up must be a failed write for us, never SIGPIPE for the program.
    // Client and sampler threads inherit the mask.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    accept_loop();
  });
}

void debug_service::stop() {
  if (stop_fd_ >= 0) {
    const std::uint64_t one = 1;
    (void)!::write(stop_fd_, &one, sizeof one);
  }
  if (thread_.joinable()) {
    thread_.join();
    ::unlink(path_.c_str());
  }
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (stop_fd_ >= 0) ::close(stop_fd_);
  listen_fd_ = stop_fd_ = -1;
}

void debug_service::accept_loop() noexcept {
  const uid_t allowed =
      options_.allowed_uid >= 0 ? static_cast<uid_t>(options_.allowed_uid) : ::geteuid();
  while (true) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents != 0) break;
    reap(false);
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      // Out of descriptors: wait for stop() a little instead of spinning on the backlog.
      if (errno == EMFILE || errno == ENFILE) ::poll(&fds[1], 1, 100);
      continue;
    }
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != allowed) {
      send_error(fd, "permission denied: user " + std::to_string(cred.uid) +
                         " may not attach to process " + std::to_string(::getpid()));
      ::close(fd);
      continue;
    }
    std::lock_guard guard(m_);
    if (clients_.size() >= options_.max_clients) {
      send_error(fd, "busy: " + std::to_string(clients_.size()) +
                         " clients are attached already; try again later");
      ::close(fd);
      continue;
    }
    client& c = clients_.emplace_back(fd);
    try {
      c.thread = std::thread([this, &c] { serve(c); });
    } catch (const std::system_error&) {
      send_error(fd, "busy: cannot start a thread");
      ::close(fd);
      clients_.pop_back();
    }
  }
  reap(true);
}

void debug_service::reap(bool all) noexcept {
  std::list<client> finished;
  {
    std::lock_guard guard(m_);
    for (auto it = clients_.begin(); it != clients_.end();) {
      auto next = std::next(it);
      if (all || it->done.load(std::memory_order_acquire))
        finished.splice(finished.end(), clients_, it);
      it = next;
    }
  }
  // Joined outside m_: a finishing client thread takes m_ to release the recording slot.
  for (auto& c : finished) c.thread.join();
}

void debug_service::serve(client& c) noexcept {
  const int fd = c.fd;
  set_timeout(fd, SO_RCVTIMEO, options_.request_timeout_ns);
  set_timeout(fd, SO_SNDTIMEO, options_.send_timeout_ns);
  char buf[debug_request_max];
  std::size_t got = 0;
  std::string_view line;
  bool ended = false;
  while (got < sizeof buf) {
    const ssize_t n = ::recv(fd, buf + got, sizeof buf - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        send_error(fd, "no request line within the request timeout");
      ended = true;
      break;
    }
    const auto nl = std::string_view(buf + got, static_cast<std::size_t>(n)).find('\n');
    got += static_cast<std::size_t>(n);
    if (nl != std::string_view::npos) {
      line = std::string_view(buf, got - static_cast<std::size_t>(n) + nl);
      break;
    }
  }
  if (!ended && line.data() == nullptr) {
    send_error(fd, "request longer than " + std::to_string(debug_request_max) + " bytes");
  } else if (!ended) {
    std::string why;
    try {
      if (auto r = parse_debug_request(line, why)) {
        if (r->what == debug_request::kind::snapshot) {
          if (snapshot_rate_.try_take()) {
            serve_snapshot(fd);
          } else {
            send_error(fd, snapshot_rate_error(snapshot_rate_.limit()));
          }
        } else {
          serve_record(fd, *r);
        }
      } else {
        send_error(fd, why);
      }
    } catch (const std::exception&) {
      // The client went away or stopped reading (send timeout): nothing to tell anyone.
    }
  }
  // Marked done before the close, so a client that has seen the close and connects again finds
  // this slot free (reaped) rather than still held.
  c.done.store(true, std::memory_order_release);
  ::close(fd);
}

void debug_service::serve_snapshot(int fd) {
  recording_writer out(fd, "debug socket");
  write_snapshot_recording(*rt_, out);
}

void debug_service::serve_record(int fd, const debug_request& r) {
  {
    std::lock_guard guard(m_);
    if (recording_) {
      send_error(fd, "busy: another client is recording this process");
      return;
    }
    recording_ = true;
  }
  struct release {
    debug_service& s;
    ~release() {
      std::lock_guard guard(s.m_);
      s.recording_ = false;
    }
  } slot{*this};
  auto session = start_recording(*rt_, fd, attach_options(r));
  end_reason why = end_reason::completed;
  while (!session->sampler().finished()) {
    pollfd fds[2] = {{fd, POLLIN | POLLRDHUP, 0}, {stop_fd_, POLLIN, 0}};
    if (::poll(fds, 2, record_poll_ms) < 0 && errno != EINTR) break;
    // The program is ending (its main returned): the recording ends with it.
    if (fds[1].revents != 0) break;
    // The client half-closed, hung up or sent more: it wants the recording to end.
    if (fds[0].revents != 0) {
      why = end_reason::interrupted;
      break;
    }
  }
  session->stop(why);
}

bool debug_socket_requested_by_env() {
  const char* v = std::getenv(environment::debug_socket.data());
  if (!v || std::string_view(v) == "0" || *v == '\0') return false;
  if (std::string_view(v) == "1") return true;
  std::fprintf(stderr, "gprof-id: ignoring %s=%s (want 1 or 0)\n", environment::debug_socket.data(),
               v);
  return false;
}

}  // namespace gprofid
