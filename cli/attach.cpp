#include "cli/attach.hpp"

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>

namespace gprofid::cli {
namespace {

// How long the program gets to answer a request with its first line.
constexpr int answer_timeout_s = 10;

std::string read_proc(pid_t pid, const char* what) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/" + what, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The value of `name` in the environment the process started with, if it is set there.
std::optional<std::string> initial_env(const std::string& environ, std::string_view name) {
  std::string_view rest = environ;
  while (!rest.empty()) {
    const auto end = rest.find('\0');
    const std::string_view entry = rest.substr(0, end);
    if (entry.size() > name.size() && entry.starts_with(name) && entry[name.size()] == '=')
      return std::string(entry.substr(name.size() + 1));
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  return std::nullopt;
}

}  // namespace

attachment::attachment(pid_t pid, const debug_request& request) {
  const std::string who = "process " + std::to_string(pid);
  if (pid <= 0) throw attach_error("--pid " + std::to_string(pid) + ": not a process id");
  if (::kill(pid, 0) != 0) {
    if (errno == EPERM) throw attach_error(who + " belongs to another user");
    // Its environment is gone with it: the socket it may have left is looked for where ours
    // would be.
    const std::string left =
        debug_socket_path(debug_socket_dir(std::getenv("XDG_RUNTIME_DIR")), pid);
    if (remove_stale_debug_socket(left, pid))
      throw attach_error(who + " is not running (removed the socket it left at " + left + ")");
    throw attach_error(who + " is not running");
  }
  // A zombie still answers kill(): it has exited, only its parent has not reaped it yet.
  const std::string proc_stat = read_proc(pid, "stat");
  const auto paren = proc_stat.rfind(") ");
  if (paren != std::string::npos && proc_stat.compare(paren + 2, 1, "Z") == 0)
    throw attach_error(who + " is not running (it has exited)");
  struct stat st {};
  if (::stat(("/proc/" + std::to_string(pid)).c_str(), &st) == 0 && st.st_uid != ::geteuid())
    throw attach_error(who + " belongs to another user (uid " + std::to_string(st.st_uid) + ")");
  name_ = read_proc(pid, "comm");
  if (!name_.empty() && name_.back() == '\n') name_.pop_back();
  const std::string named = who + (name_.empty() ? "" : " (" + name_ + ")");
  const std::string environ = read_proc(pid, "environ");
  // The program finds its socket with its own environment, so we look there too.
  const auto xdg =
      environ.empty() ? std::optional<std::string>() : initial_env(environ, "XDG_RUNTIME_DIR");
  const char* dir_from = environ.empty() ? std::getenv("XDG_RUNTIME_DIR")
                         : xdg           ? xdg->c_str()
                                         : nullptr;
  const auto enabled = initial_env(environ, "GPROFID_DEBUG_SOCKET");
  if (!environ.empty() && enabled != "1") {
    // Its HTTP service, if it has one, is where its goroutines can be read instead.
    const auto http = read_debug_http_address(debug_socket_dir(dir_from), pid);
    throw attach_error(named + " has no debug service: start it with GPROFID_DEBUG_SOCKET=1" +
                       (http ? " (it serves HTTP on http://" + *http + "/debug/pprof/)" : ""));
  }
  const std::string path = debug_socket_path(debug_socket_dir(dir_from), pid);

  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    throw attach_error(path + ": path too long for a socket");
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw attach_error(std::string("socket: ") + std::strerror(errno));
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    if (err == ENOENT)
      throw attach_error(named + " has no debug socket at " + path +
                         " (is it linked with gprofid::gprofid, and has its runtime started?)");
    // The program lives but does not serve: its PID was a killed program's, whose socket is
    // replaced when this one's debug service starts.
    if (err == ECONNREFUSED)
      throw attach_error(named + ": nothing listens on " + path +
                         " (a socket left behind by a killed program with the same pid; this one "
                         "has not started a debug service)");
    throw attach_error(path + ": " + std::strerror(err));
  }
  const timeval tv{answer_timeout_s, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const std::string line = format_debug_request(request);
  if (::send(fd_, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    throw attach_error(named + ": cannot send the request: " + std::strerror(err));
  }
  char buf[4096];
  while (received_.find('\n') == std::string::npos) {
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const bool timed_out = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
      ::close(fd_);
      fd_ = -1;
      throw attach_error(named +
                         (timed_out ? ": no answer within " + std::to_string(answer_timeout_s) + "s"
                                    : ": the debug service closed the connection"));
    }
    received_.append(buf, static_cast<std::size_t>(n));
  }
  if (std::string_view(received_).starts_with(debug_error_prefix)) {
    std::string reason = received_.substr(debug_error_prefix.size());
    reason.erase(reason.find('\n'));
    ::close(fd_);
    fd_ = -1;
    throw attach_error(named + ": " + reason);
  }
  const timeval none{0, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);
}

attachment::~attachment() {
  if (fd_ >= 0) ::close(fd_);
}

void attachment::finish() noexcept {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

}  // namespace gprofid::cli
