// The debug service: a runtime_service that serves snapshots and recordings of its runtime on a
// Unix domain socket, so `gprof-id record --pid PID` and `gprof-id show --pid PID` can attach to
// a program started without gprof-id. Started by the auto-start hook when GPROFID_DEBUG_SOCKET=1
// (see auto_record.hpp), or by rt.add_service(std::make_unique<debug_service>()).
//
// It runs on its own threads (one accepting, one per client), which only take snapshots, so it
// answers while every worker is blocked. The protocol, the security properties and the limits
// are in docs/attach.md; the request grammar in debug_protocol.hpp.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <thread>

#include "gprofid/recorder/rate_limit.hpp"
#include "gprofid/runtime.hpp"

namespace gprofid {

struct debug_service_options {
  // Empty: debug_socket_path(debug_socket_dir($XDG_RUNTIME_DIR), getpid()), the directory
  // created 0700 if missing. Otherwise its directory must exist and be private.
  std::string socket_path{};
  // Clients served at once; more are answered "error: busy" and closed.
  std::size_t max_clients = 4;
  // A client must send its request line within this long.
  std::int64_t request_timeout_ns = 2'000'000'000;
  // A client that reads nothing for this long is dropped (the write fails), so a stuck client
  // cannot hold a sampler, or the program's exit, for longer.
  std::int64_t send_timeout_ns = 5'000'000'000;
  // `snapshot` requests beyond this rate are answered "error: busy" (recordings are bounded by
  // their interval instead).
  rate_limit snapshots{};
  // The only user let in (SO_PEERCRED); -1: the effective user of this process. Tests set it.
  long allowed_uid = -1;
};

class debug_service final : public runtime_service {
 public:
  explicit debug_service(debug_service_options options = {});
  ~debug_service() override;  // stop()
  debug_service(const debug_service&) = delete;
  debug_service& operator=(const debug_service&) = delete;

  // Creates and listens on the socket (mode 0600) and starts the accepting thread. Throws
  // std::system_error (what(): the path and the reason) if it cannot.
  void start(runtime& rt) override;
  // Ends every recording in progress with its end line, joins every thread and removes the
  // socket. Idempotent; returns within send_timeout_ns even if a client reads nothing.
  void stop() override;

  const std::string& socket_path() const noexcept { return path_; }

 private:
  struct client;
  void accept_loop() noexcept;
  void serve(client& c) noexcept;
  void serve_record(int fd, const struct debug_request& r);
  void serve_snapshot(int fd);
  void reap(bool all) noexcept;

  debug_service_options options_;
  runtime* rt_ = nullptr;
  std::string path_;
  int listen_fd_ = -1;
  int stop_fd_ = -1;  // eventfd, written once by stop(); every thread polls it
  std::thread thread_;

  // Guards clients_ and recording_. Taken by the accepting thread and by client threads as they
  // finish; never held while serving or joining.
  std::mutex m_;
  std::list<client> clients_;
  bool recording_ = false;      // one recording at a time; a second "record" is refused
  rate_limiter snapshot_rate_;  // options_.snapshots
};

// Whether the environment asks for the debug service (GPROFID_DEBUG_SOCKET=1). Another value
// is reported on stderr and ignored.
bool debug_socket_requested_by_env();

}  // namespace gprofid
