#include "gprofid/recorder/debug_protocol.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <system_error>
#include <vector>

namespace gprofid {
namespace {

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  while (true) {
    const auto start = line.find_first_not_of(' ');
    if (start == std::string_view::npos) return out;
    line.remove_prefix(start);
    const auto end = line.find(' ');
    out.push_back(line.substr(0, end));
    if (end == std::string_view::npos) return out;
    line.remove_prefix(end);
  }
}

template <typename T>
bool whole_number(std::string_view text, T& out) {
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && p == text.data() + text.size();
}

}  // namespace

std::string debug_socket_dir(const char* xdg_runtime_dir) {
  if (xdg_runtime_dir && xdg_runtime_dir[0] == '/')
    return std::string(xdg_runtime_dir) + "/gprof-id";
  return "/tmp/gprof-id-" + std::to_string(::geteuid());
}

std::string debug_socket_path(const std::string& dir, pid_t pid) {
  return dir + "/" + std::to_string(pid) + ".sock";
}

std::string debug_http_address_path(const std::string& dir, pid_t pid) {
  return dir + "/" + std::to_string(pid) + ".http";
}

std::optional<std::string> read_debug_http_address(const std::string& dir, pid_t pid) {
  std::ifstream in(debug_http_address_path(dir, pid));
  std::string line;
  if (!in || !std::getline(in, line) || line.empty() || line.size() > 64) return std::nullopt;
  for (char c : line) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f)
      return std::nullopt;
  }
  return line;
}

void ensure_private_debug_dir(const std::string& dir, bool create) {
  auto fail = [](const std::string& what, int err) {
    throw std::system_error(err, std::generic_category(), what);
  };
  if (create && ::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) fail("mkdir " + dir, errno);
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) fail(dir, errno);
  if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    fail(dir + " is not a private directory of this user (owner " + std::to_string(st.st_uid) +
             ", mode " + mode + ")",
         EACCES);
  }
}

bool debug_socket_listened(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  // A listening service accepts and then reads a request line we never send; it drops us after
  // its request timeout, or at once when we close.
  const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

bool remove_stale_debug_socket(const std::string& path, pid_t pid) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) return false;
  if (pid > 0 && (::kill(pid, 0) == 0 || errno != ESRCH)) return false;
  if (debug_socket_listened(path)) return false;
  return ::unlink(path.c_str()) == 0;
}

bool debug_http_address_listened(const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) return false;
  int port = 0;
  if (!whole_number(std::string_view(address).substr(colon + 1), port) || port <= 0 || port > 65535)
    return false;
  std::string host = address.substr(0, colon);
  sockaddr_storage addr{};
  socklen_t size = 0;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&addr);
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(static_cast<std::uint16_t>(port));
    if (::inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &a6->sin6_addr) != 1)
      return false;
    size = sizeof *a6;
  } else {
    auto* a4 = reinterpret_cast<sockaddr_in*>(&addr);
    a4->sin_family = AF_INET;
    a4->sin_port = htons(static_cast<std::uint16_t>(port));
    if (::inet_pton(AF_INET, host.c_str(), &a4->sin_addr) != 1) return false;
    size = sizeof *a4;
  }
  const int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  // An address of this machine: connect is answered at once, accepted or refused. The service
  // drops a connection that sends no request.
  const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), size) == 0;
  ::close(fd);
  return ok;
}

bool remove_stale_debug_http_address(const std::string& path, pid_t pid) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  if (pid > 0 && (::kill(pid, 0) == 0 || errno != ESRCH)) return false;
  // As for a socket: a file whose program lives in another PID namespace still names a served
  // address, and is kept.
  std::ifstream in(path);
  std::string address;
  if (std::getline(in, address) && debug_http_address_listened(address)) return false;
  return ::unlink(path.c_str()) == 0;
}

std::size_t remove_stale_debug_sockets(const std::string& dir) {
  const std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) return 0;
  std::size_t removed = 0;
  while (const dirent* e = ::readdir(d.get())) {
    const std::string_view name = e->d_name;
    const bool socket = name.ends_with(".sock");
    if (!socket && !name.ends_with(".http")) continue;
    pid_t pid = 0;
    if (!whole_number(name.substr(0, name.size() - 5), pid) || pid <= 0) continue;
    const std::string path = dir + "/" + std::string(name);
    const bool gone =
        socket ? remove_stale_debug_socket(path, pid) : remove_stale_debug_http_address(path, pid);
    removed += gone ? 1 : 0;
  }
  return removed;
}

std::optional<debug_request> parse_debug_request(std::string_view line, std::string& error) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  for (char c : line) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      error = "request is not a line of printable ASCII";
      return std::nullopt;
    }
  }
  const auto w = words(line);
  const std::string usage = "want \"snapshot\" or \"record INTERVAL_NS DURATION_NS [MAX_SAMPLES]\"";
  if (w.empty()) {
    error = "empty request (" + usage + ")";
    return std::nullopt;
  }
  debug_request r;
  if (w[0] == "snapshot" && w.size() == 1) return r;
  if (w[0] != "record" || w.size() < 3 || w.size() > 4) {
    error = "unknown request \"" + std::string(line.substr(0, 40)) + "\" (" + usage + ")";
    return std::nullopt;
  }
  r.what = debug_request::kind::record;
  if (!whole_number(w[1], r.interval_ns) || r.interval_ns < debug_min_interval_ns ||
      r.interval_ns > 3'600'000'000'000LL) {
    error = "INTERVAL_NS \"" + std::string(w[1].substr(0, 20)) + "\" is not in " +
            std::to_string(debug_min_interval_ns) + "..3600000000000";
    return std::nullopt;
  }
  if (!whole_number(w[2], r.duration_ns) || r.duration_ns < 0) {
    error = "DURATION_NS \"" + std::string(w[2].substr(0, 20)) + "\" is not a number >= 0";
    return std::nullopt;
  }
  if (w.size() == 4 && !whole_number(w[3], r.max_samples)) {
    error = "MAX_SAMPLES \"" + std::string(w[3].substr(0, 20)) + "\" is not a number >= 0";
    return std::nullopt;
  }
  return r;
}

std::string format_debug_request(const debug_request& r) {
  if (r.what == debug_request::kind::snapshot) return "snapshot\n";
  return "record " + std::to_string(r.interval_ns) + " " + std::to_string(r.duration_ns) + " " +
         std::to_string(r.max_samples) + "\n";
}

}  // namespace gprofid
