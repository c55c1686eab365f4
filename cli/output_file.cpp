#include "cli/output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace gprofid::cli {

output_file::output_file(const std::string& path, bool force) : path_(path) {
  if (path == "-") {
    name_ = "stdout";
    fd_ = STDOUT_FILENO;
    return;
  }
  if (path.empty()) throw output_error("empty output file name");
  name_ = path;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
    // A device or FIFO: nothing to clobber, and never to delete (as root, unlinking /dev/full
    // would replace the device with a file).
    fd_ = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd_ < 0) throw output_error("cannot open " + path + ": " + std::strerror(errno));
    owned_ = true;
    return;
  }
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL);
  fd_ = ::open(path.c_str(), flags, 0644);
  if (fd_ < 0) {
    if (errno == EEXIST) throw output_error(path + " already exists (use --force to overwrite it)");
    throw output_error("cannot create " + path + ": " + std::strerror(errno));
  }
  owned_ = true;
  regular_ = true;
}

output_file::~output_file() {
  if (owned_ && fd_ >= 0) ::close(fd_);
}

void output_file::discard() noexcept {
  if (!owned_) return;
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  if (regular_) ::unlink(path_.c_str());
  owned_ = false;
}

void output_file::close() {
  if (!owned_ || fd_ < 0) return;
  if (::close(std::exchange(fd_, -1)) != 0) {
    throw output_error("cannot write " + path_ + ": " + std::strerror(errno));
  }
}

}  // namespace gprofid::cli
