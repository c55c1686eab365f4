#include "gprofid/net.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

#include "gprofid/runtime.hpp"
#include "reactor.hpp"

namespace gprofid {
namespace {

[[noreturn]] void throw_errno(int err, const char* what) {
  throw std::system_error(err, std::generic_category(), what);
}

class resolver_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "getaddrinfo"; }
  std::string message(int code) const override { return gai_strerror(code); }
};

const std::error_category& resolver_errors() noexcept {
  static const resolver_category category;
  return category;
}

struct addrinfo_deleter {
  void operator()(addrinfo* a) const noexcept { freeaddrinfo(a); }
};
using addrinfo_ptr = std::unique_ptr<addrinfo, addrinfo_deleter>;

addrinfo_ptr resolve(const std::string& host, std::uint16_t port, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  const std::string service = std::to_string(port);
  addrinfo* out = nullptr;
  // Numeric hosts first: that path never blocks the worker on a name lookup.
  int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &out);
  if (rc == EAI_NONAME && !host.empty()) {
    hints.ai_flags |= AI_ADDRCONFIG;
    rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &out);
  }
  if (rc != 0) {
    if (rc == EAI_SYSTEM) throw_errno(errno, "getaddrinfo");
    throw std::system_error(rc, resolver_errors(), "resolving " + host);
  }
  return addrinfo_ptr(out);
}

poller& current_poller() {
  runtime* rt = runtime::current();
  if (!rt) throw std::logic_error("gprofid sockets are used from inside a goroutine");
  return rt->io_reactor().io();
}

int open_socket(int family) {
  int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_errno(errno, "socket");
  return fd;
}

std::uint16_t port_of(int fd, bool peer) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  auto* sa = reinterpret_cast<sockaddr*>(&addr);
  if ((peer ? getpeername(fd, sa, &len) : getsockname(fd, sa, &len)) != 0) {
    throw_errno(errno, peer ? "getpeername" : "getsockname");
  }
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
}

void set_no_delay(int fd) noexcept {
  // Like Go: small writes go out at once; an RPC-style exchange would otherwise stall.
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// A syscall's outcome, with errno captured at once. The helpers are out of line because errno's
// thread-local address must not be cached across a co_await that resumes on another worker.
struct sys_result {
  ssize_t n;
  int err;
};

[[gnu::noinline]] sys_result sys_recv(int fd, std::span<std::byte> buf) noexcept {
  const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
  return {n, n < 0 ? errno : 0};
}

[[gnu::noinline]] sys_result sys_send(int fd, std::span<const std::byte> buf) noexcept {
  // MSG_NOSIGNAL: a closed peer is an EPIPE error, not a process-killing SIGPIPE.
  const ssize_t n = ::send(fd, buf.data(), buf.size(), MSG_NOSIGNAL);
  return {n, n < 0 ? errno : 0};
}

[[gnu::noinline]] sys_result sys_accept(int fd) noexcept {
  const int n = ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  return {n, n < 0 ? errno : 0};
}

[[gnu::noinline]] int sys_connect(int fd, const addrinfo* a) noexcept {
  int rc;
  do {
    rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
  } while (rc != 0 && errno == EINTR);
  return rc == 0 ? 0 : errno;
}

// After writability: 0 once connected, EINPROGRESS if the readiness was stale, else the error.
[[gnu::noinline]] int connect_status(int fd) noexcept {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  if (err != 0) return err;
  sockaddr_storage peer{};
  socklen_t plen = sizeof peer;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &plen) == 0) return 0;
  return errno == ENOTCONN ? EINPROGRESS : errno;
}

}  // namespace

tcp_stream::tcp_stream(int fd) : io_(std::make_unique<io_handle>(current_poller(), fd)) {}

io_handle& tcp_stream::handle() const {
  if (!is_open()) throw_errno(EBADF, "tcp_stream: not open");
  return *io_;
}

task<tcp_stream> tcp_stream::connect(std::string host, std::uint16_t port) {
  auto addrs = resolve(host, port, false);
  int last_error = ECONNREFUSED;
  for (const addrinfo* a = addrs.get(); a; a = a->ai_next) {
    tcp_stream s(open_socket(a->ai_family));
    const int fd = s.native_handle();
    int err = sys_connect(fd, a);
    while (err == EINPROGRESS) {
      co_await s.handle().wait(io_direction::write);
      err = connect_status(fd);
    }
    if (err != 0) {
      last_error = err;
      continue;
    }
    set_no_delay(fd);
    co_return s;
  }
  throw_errno(last_error, ("connect to " + host + ":" + std::to_string(port)).c_str());
}

task<std::size_t> tcp_stream::read(std::span<std::byte> buf) {
  io_handle& h = handle();
  io_handle::operation op(h);
  for (;;) {
    if (h.closed()) throw_errno(ECANCELED, "read: stream closed");
    const auto r = sys_recv(h.fd(), buf);
    if (r.n >= 0) co_return static_cast<std::size_t>(r.n);
    if (r.err == EINTR) continue;
    if (r.err != EAGAIN && r.err != EWOULDBLOCK) throw_errno(r.err, "read");
    co_await h.wait(io_direction::read);
  }
}

task<std::size_t> tcp_stream::write(std::span<const std::byte> buf) {
  io_handle& h = handle();
  if (buf.empty()) co_return 0;
  io_handle::operation op(h);
  for (;;) {
    if (h.closed()) throw_errno(ECANCELED, "write: stream closed");
    const auto r = sys_send(h.fd(), buf);
    if (r.n >= 0) co_return static_cast<std::size_t>(r.n);
    if (r.err == EINTR) continue;
    if (r.err != EAGAIN && r.err != EWOULDBLOCK) throw_errno(r.err, "write");
    co_await h.wait(io_direction::write);
  }
}

task<void> tcp_stream::write_all(std::span<const std::byte> buf) {
  while (!buf.empty()) {
    const std::size_t n = co_await write(buf);
    buf = buf.subspan(n);
  }
}

void tcp_stream::shutdown_write() {
  if (::shutdown(handle().fd(), SHUT_WR) != 0) throw_errno(errno, "shutdown");
}

std::uint16_t tcp_stream::local_port() const {
  return port_of(handle().fd(), false);
}

std::uint16_t tcp_stream::peer_port() const {
  return port_of(handle().fd(), true);
}

tcp_listener tcp_listener::listen(const std::string& host, std::uint16_t port, int backlog) {
  poller& p = current_poller();
  auto addrs = resolve(host, port, true);
  int last_error = EADDRNOTAVAIL;
  for (const addrinfo* a = addrs.get(); a; a = a->ai_next) {
    auto h = std::make_unique<io_handle>(p, open_socket(a->ai_family));
    int one = 1;
    setsockopt(h->fd(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(h->fd(), a->ai_addr, a->ai_addrlen) != 0 || ::listen(h->fd(), backlog) != 0) {
      last_error = errno;
      continue;
    }
    tcp_listener l;
    l.io_ = std::move(h);
    return l;
  }
  throw_errno(last_error, ("listen on " + host + ":" + std::to_string(port)).c_str());
}

task<tcp_stream> tcp_listener::accept() {
  if (!is_open()) throw_errno(EBADF, "tcp_listener: not open");
  io_handle& h = *io_;
  io_handle::operation op(h);
  for (;;) {
    if (h.closed()) throw_errno(ECANCELED, "accept: listener closed");
    const auto r = sys_accept(h.fd());
    if (r.n >= 0) {
      const int fd = static_cast<int>(r.n);
      set_no_delay(fd);
      co_return tcp_stream(fd);
    }
    // A connection that died in the backlog is not the listener's failure.
    if (r.err == EINTR || r.err == ECONNABORTED || r.err == EPROTO) continue;
    if (r.err != EAGAIN && r.err != EWOULDBLOCK) throw_errno(r.err, "accept");
    co_await h.wait(io_direction::read);
  }
}

std::uint16_t tcp_listener::local_port() const {
  if (!is_open()) throw_errno(EBADF, "tcp_listener: not open");
  return port_of(io_->fd(), false);
}

}  // namespace gprofid
