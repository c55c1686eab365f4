#include "cli/output_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "cli/output_file.hpp"

namespace gprofid::cli {

std::string sibling_path(const std::string& path, const std::string& suffix) {
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  return dir + "." + base + "." + suffix;
}

output_lock::output_lock(const std::string& path)
    : lock_path_(sibling_path(path, "gprof-id-lock")) {
  // The previous holder unlinks the file before releasing it; a lock taken on that unlinked
  // file guards nothing, so it is only ours once the name still points at the locked inode.
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw output_error("cannot create " + path + ": " + std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      char pid[32] = {};
      const ssize_t n = ::pread(fd, pid, sizeof pid - 1, 0);
      ::close(fd);
      if (err != EWOULDBLOCK) {
        throw output_error("cannot lock " + lock_path_ + ": " + std::strerror(err));
      }
      std::string holder = n > 0 ? std::string(pid, static_cast<std::size_t>(n)) : "";
      while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
      throw output_error(path + " is being written by another gprof-id" +
                         (holder.empty() ? "" : " (pid " + holder + ")"));
    }
    struct stat held {
    }, named{};
    if (::fstat(fd, &held) == 0 && ::stat(lock_path_.c_str(), &named) == 0 &&
        held.st_dev == named.st_dev && held.st_ino == named.st_ino) {
      fd_ = fd;
      const std::string me = std::to_string(::getpid()) + "\n";
      if (::ftruncate(fd_, 0) == 0) {
        [[maybe_unused]] auto w = ::pwrite(fd_, me.data(), me.size(), 0);
      }
      return;
    }
    ::close(fd);
  }
  throw output_error("cannot lock " + lock_path_ + ": it keeps being replaced");
}

output_lock::~output_lock() {
  release();
}

output_lock::output_lock(output_lock&& o) noexcept
    : lock_path_(std::move(o.lock_path_)), fd_(std::exchange(o.fd_, -1)) {}

output_lock& output_lock::operator=(output_lock&& o) noexcept {
  if (this != &o) {
    release();
    lock_path_ = std::move(o.lock_path_);
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

void output_lock::release() noexcept {
  if (fd_ < 0) return;
  // Unlink while still holding it: a waiter that opened the old file then sees a stale inode.
  ::unlink(lock_path_.c_str());
  ::close(std::exchange(fd_, -1));
}

}  // namespace gprofid::cli
