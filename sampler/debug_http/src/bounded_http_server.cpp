#include "bounded_http_server.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace gprofid {
namespace {

// Set while the listening thread runs a connection the queue had no room for.
thread_local bool overloaded = false;

// A fixed set of threads and a queue. A connection is admitted while fewer than `capacity`
// (threads + queue places) are admitted and not yet finished; one beyond that runs at once on the
// caller (httplib's listening thread) with `overloaded` set, which answers it 503 without reading
// it. `admitted` is decremented by the server just before it closes a connection, so a client
// that has seen its answer end finds the place free.
class bounded_queue final : public httplib::TaskQueue {
 public:
  bounded_queue(std::size_t threads, std::size_t capacity, std::atomic<std::size_t>& admitted)
      : capacity_(capacity), admitted_(admitted) {
    for (std::size_t i = 0; i < std::max<std::size_t>(threads, 1); ++i) {
      threads_.emplace_back([this] { work(); });
    }
  }
  ~bounded_queue() override { shutdown(); }

  void enqueue(std::function<void()> fn) override {
    {
      std::lock_guard guard(m_);
      if (admitted_.load() < capacity_ && !stopping_) {
        admitted_.fetch_add(1);
        jobs_.push_back(std::move(fn));
        cv_.notify_one();
        return;
      }
    }
    overloaded = true;
    fn();
    overloaded = false;
  }

  // Runs what is queued, then joins (httplib calls it when listen() ends).
  void shutdown() override {
    {
      std::lock_guard guard(m_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  void work() {
    while (true) {
      std::function<void()> fn;
      {
        std::unique_lock lock(m_);
        cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;  // stopping, nothing left
        fn = std::move(jobs_.front());
        jobs_.pop_front();
      }
      fn();
    }
  }

  const std::size_t capacity_;
  std::atomic<std::size_t>& admitted_;
  // Guards jobs_ and stopping_; waiters (idle threads) resume in work() when a job is queued
  // or shutdown() is called.
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// The transport links nothing of gprof-id's: the monotonic clock, directly.
std::int64_t monotonic_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int remaining_ms(std::int64_t deadline_ns) {
  const std::int64_t left = deadline_ns - monotonic_ns();
  return left <= 0 ? 0 : static_cast<int>(std::min<std::int64_t>(left / 1'000'000 + 1, 1 << 30));
}

bool wait_for(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  while (true) {
    const int n = ::poll(&p, 1, timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    return n > 0;
  }
}

void address_of(int fd, bool peer, std::string& ip, int& port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  auto* a = reinterpret_cast<sockaddr*>(&addr);
  if ((peer ? ::getpeername(fd, a, &len) : ::getsockname(fd, a, &len)) != 0) return;
  char host[NI_MAXHOST], serv[NI_MAXSERV];
  if (::getnameinfo(a, len, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
    ip = host;
    port = std::atoi(serv);
  }
}

// A connection's stream for httplib: reads fail past the byte limit or the request deadline,
// each write waits at most the send timeout.
class bounded_stream final : public httplib::Stream {
 public:
  bounded_stream(int fd, const http_bounds& b)
      : fd_(fd), bounds_(b), deadline_ns_(monotonic_ns() + b.request_timeout_ns) {}

  bool is_readable() const override {
    return pos_ < len_ || (read_total_ < bounds_.max_request_bytes &&
                           wait_for(fd_, POLLIN, remaining_ms(deadline_ns_)));
  }
  bool is_writable() const override { return wait_for(fd_, POLLOUT, send_timeout_ms()); }

  ssize_t read(char* ptr, size_t size) override {
    if (pos_ == len_) {
      if (read_total_ >= bounds_.max_request_bytes) return -1;
      if (!wait_for(fd_, POLLIN, remaining_ms(deadline_ns_))) return -1;
      const std::size_t want = std::min(sizeof buf_, bounds_.max_request_bytes - read_total_);
      const ssize_t n = ::recv(fd_, buf_, want, 0);
      if (n <= 0) return n;
      read_total_ += static_cast<std::size_t>(n);
      pos_ = 0;
      len_ = static_cast<std::size_t>(n);
    }
    const std::size_t n = std::min(size, len_ - pos_);
    std::memcpy(ptr, buf_ + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    return ::send(fd_, ptr, size, MSG_NOSIGNAL);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    address_of(fd_, true, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    address_of(fd_, false, ip, port);
  }
  socket_t socket() const override { return fd_; }

 private:
  int send_timeout_ms() const {
    return static_cast<int>(std::min<std::int64_t>(bounds_.send_timeout_ns / 1'000'000, 1 << 30));
  }

  int fd_;
  const http_bounds& bounds_;
  std::int64_t deadline_ns_;
  std::size_t read_total_ = 0;
  char buf_[4096];
  std::size_t pos_ = 0, len_ = 0;
};

// 503 for a connection there is no room for: what has arrived is read (so that closing does not
// reset the connection under the answer), nothing is waited for.
void refuse_overloaded(int fd) {
  char sink[4096];
  while (::recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0) {
  }
  static constexpr std::string_view body = "gprof-id: busy: too many requests at once; retry\n";
  static const std::string answer =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\nRetry-After: 1\r\nConnection: close\r\n\r\n" +
      std::string(body);
  (void)!::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

}  // namespace

bounded_http_server::bounded_http_server(http_bounds bounds) : bounds_(bounds) {
  // httplib owns the queue it asks for (and deletes it when listen() returns).
  new_task_queue = [this] {
    return new bounded_queue(bounds_.max_active, bounds_.max_active + bounds_.max_queued,
                             admitted_);
  };
  // httplib's default options add SO_REUSEPORT, which would let a second process (of the same
  // user) bind our port too and take some of our connections: SO_REUSEADDR only, close-on-exec.
  set_socket_options([](socket_t sock) {
    const int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    ::fcntl(sock, F_SETFD, FD_CLOEXEC);
  });
  set_keep_alive_max_count(1);
  set_payload_max_length(bounds_.max_request_bytes);
}

void bounded_http_server::set_backlog(int n) {
  ::listen(svr_sock_, n);  // Linux: listening again on a listening socket sets its backlog
}

bool bounded_http_server::process_and_close_socket(socket_t sock) {
  // httplib accepts without SOCK_CLOEXEC; a program that starts another must not pass it on.
  ::fcntl(sock, F_SETFD, FD_CLOEXEC);
  bool ok = true;
  if (overloaded) {
    refuse_overloaded(sock);
  } else {
    struct release {
      std::atomic<std::size_t>& n;
      ~release() { n.fetch_sub(1); }
    } place{admitted_};
    bounded_stream stream(sock, bounds_);
    bool closed = false;
    ok = process_request(stream, /*close_connection=*/true, closed, nullptr);
  }
  ::shutdown(sock, SHUT_WR);
  ::close(sock);
  return ok;
}

}  // namespace gprofid
