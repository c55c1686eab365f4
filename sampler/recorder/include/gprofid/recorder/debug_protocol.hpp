// The debug socket's address and requests (docs/attach.md), shared by the service in the
// recorded program and by `gprof-id record|show --pid`, so both sides agree on where the socket
// is and what a request line looks like.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gprofid {

// The private directory that holds the sockets of one user's processes:
// "$XDG_RUNTIME_DIR/gprof-id" when `xdg_runtime_dir` is an absolute path, else
// "/tmp/gprof-id-UID" (UID: the effective user id).
std::string debug_socket_dir(const char* xdg_runtime_dir);
// "DIR/PID.sock".
std::string debug_socket_path(const std::string& dir, pid_t pid);
// "DIR/PID.http": the address ("127.0.0.1:PORT") the HTTP debug service GPROFID_DEBUG_HTTP
// started listens on, while it does (docs/fleet.md).
std::string debug_http_address_path(const std::string& dir, pid_t pid);
// The address in debug_http_address_path(dir, pid), or nullopt if there is none (or it is not
// one line of at most 64 printable bytes).
std::optional<std::string> read_debug_http_address(const std::string& dir, pid_t pid);

// Throws std::system_error unless `dir` is a directory of this user closed to everyone else
// (mode 0700 or tighter): what keeps other users from reaching or replacing what is in it.
// With `create`, makes it (0700) first if it is missing.
void ensure_private_debug_dir(const std::string& dir, bool create);

// Whether something accepts connections on the Unix socket at `path` (a connect succeeds).
bool debug_socket_listened(const std::string& path);

// A killed program cannot remove its socket. Removes `path` if it is a socket, process `pid` does
// not exist and nothing listens on it; returns whether it did. Both conditions are checked so
// that a socket whose program lives in another PID namespace (sharing the directory) is kept.
bool remove_stale_debug_socket(const std::string& path, pid_t pid);
// Whether something accepts TCP connections at `address` ("127.0.0.1:PORT", "[::1]:PORT", as
// an address file holds it; 0.0.0.0 and :: are tried on this machine).
bool debug_http_address_listened(const std::string& address);
// The same rule for an address file: removes `path` ("DIR/PID.http") if process `pid` does not
// exist and nothing listens at the address it holds; returns whether it did.
bool remove_stale_debug_http_address(const std::string& path, pid_t pid);
// Every "PID.sock" in `dir` that remove_stale_debug_socket removes, and every "PID.http" that
// remove_stale_debug_http_address removes; returns how many.
std::size_t remove_stale_debug_sockets(const std::string& dir);

// Requests are one line of at most this many bytes, newline included.
inline constexpr std::size_t debug_request_max = 256;
// Sampling faster than this is refused: it would cost the program more than it tells.
inline constexpr std::int64_t debug_min_interval_ns = 1'000'000;

// "snapshot": one sample. "record INTERVAL_NS DURATION_NS [MAX_SAMPLES]": samples every
// INTERVAL_NS until DURATION_NS (0: no limit) or MAX_SAMPLES (0 or absent: no limit) is reached
// or the client half-closes its end.
struct debug_request {
  enum class kind { snapshot, record } what = kind::snapshot;
  std::int64_t interval_ns = 0;
  std::int64_t duration_ns = 0;
  std::uint64_t max_samples = 0;
};

// Parses a request line (without its newline). On failure returns nullopt and sets `error` to
// a one-line reason.
std::optional<debug_request> parse_debug_request(std::string_view line, std::string& error);
// The request line, newline included.
std::string format_debug_request(const debug_request& r);

// An error answer is this prefix, the reason and a newline, and nothing else; a good answer is a
// recording, whose first line starts with '{'.
inline constexpr std::string_view debug_error_prefix = "error: ";

}  // namespace gprofid
