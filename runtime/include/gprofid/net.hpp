// Asynchronous TCP on the runtime's reactor: a goroutine that waits for a socket parks
// (wait_reason io_wait) and frees its worker. Errors are std::system_error. Sockets close on
// destruction and must not outlive their runtime.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "gprofid/detail/poller.hpp"
#include "gprofid/task.hpp"

namespace gprofid {

class tcp_stream {
 public:
  tcp_stream() noexcept = default;
  // Takes ownership of a connected non-blocking socket; inside a goroutine.
  explicit tcp_stream(int fd);
  tcp_stream(tcp_stream&&) noexcept = default;
  tcp_stream& operator=(tcp_stream&&) noexcept = default;
  ~tcp_stream() = default;

  // Connects to host:port (numeric addresses resolve without blocking; names go through
  // getaddrinfo on the worker).
  static task<tcp_stream> connect(std::string host, std::uint16_t port);

  // Bytes read into `buf`, 0 at end of stream (or if `buf` is empty).
  task<std::size_t> read(std::span<std::byte> buf);
  // Bytes written: at least one unless `buf` is empty.
  task<std::size_t> write(std::span<const std::byte> buf);
  task<void> write_all(std::span<const std::byte> buf);

  // Ends the sending direction: the peer reads end of stream; reading still works.
  void shutdown_write();
  // Closes the socket, like Go's Conn.Close, also while other goroutines are blocked in
  // read or write on it (a watchdog's timeout, a server's shutdown): those resume and throw
  // std::system_error(ECANCELED), as does any later operation (EBADF). The peer sees the end
  // of the stream at once; the descriptor is closed when the last operation in progress ends.
  // Any goroutine or thread; the stream object itself must outlive every operation on it.
  void close() noexcept {
    if (io_) io_->close();
  }
  bool is_open() const noexcept { return io_ && !io_->closed(); }
  int native_handle() const noexcept { return is_open() ? io_->fd() : -1; }
  std::uint16_t local_port() const;
  std::uint16_t peer_port() const;

 private:
  io_handle& handle() const;
  std::unique_ptr<io_handle> io_;
};

class tcp_listener {
 public:
  tcp_listener() noexcept = default;
  tcp_listener(tcp_listener&&) noexcept = default;
  tcp_listener& operator=(tcp_listener&&) noexcept = default;
  ~tcp_listener() = default;

  // Binds and listens; port 0 picks an ephemeral port (see local_port()). Inside a goroutine.
  static tcp_listener listen(const std::string& host, std::uint16_t port, int backlog = 128);

  task<tcp_stream> accept();

  // Stops listening, like Go's Listener.Close: a goroutine blocked in accept() resumes and
  // throws std::system_error(ECANCELED), later accepts throw EBADF. Any goroutine or thread;
  // the listener object itself must outlive the accepts in progress.
  void close() noexcept {
    if (io_) io_->close();
  }
  bool is_open() const noexcept { return io_ && !io_->closed(); }
  int native_handle() const noexcept { return is_open() ? io_->fd() : -1; }
  std::uint16_t local_port() const;

 private:
  std::unique_ptr<io_handle> io_;
};

}  // namespace gprofid
