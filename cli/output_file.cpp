#include "cli/output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

namespace gprofid::cli {
namespace {

// Renames `from` to `to` unless `to` exists (atomically: two writers cannot both win).
int rename_no_replace(const char* from, const char* to) {
  if (::renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return -1;
  // A filesystem without RENAME_NOREPLACE: link() also refuses an existing name.
  if (::link(from, to) != 0) return -1;
  ::unlink(from);
  return 0;
}

mode_t creation_mode() {
  // What open(path, O_CREAT, 0644) would give; umask can only be read by setting it, and this
  // runs before any thread is started.
  const mode_t mask = ::umask(022);
  ::umask(mask);
  return 0644 & ~mask;
}

}  // namespace

output_file::output_file(const std::string& path, bool force) : path_(path), force_(force) {
  if (path == "-") {
    name_ = "stdout";
    fd_ = STDOUT_FILENO;
    return;
  }
  if (path.empty()) throw output_error("empty output file name");
  name_ = path;
  struct stat st {};
  const bool exists = ::stat(path.c_str(), &st) == 0;
  if (exists && S_ISDIR(st.st_mode)) {
    throw output_error(path + " is a directory (give a file name, e.g. " + path +
                       (path.ends_with('/') ? "" : "/") + "rec.jsonl)");
  }
  if (exists && !S_ISREG(st.st_mode)) {
    // A device or FIFO: nothing to clobber, nothing to rename over, and never to delete (as
    // root, unlinking /dev/full would replace the device with a file).
    fd_ = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd_ < 0) throw output_error("cannot open " + path + ": " + std::strerror(errno));
    owned_ = true;
    return;
  }
  if (exists && !force) throw output_error(path + " already exists (use --force to overwrite it)");
  // A symbolic link is written through, as open(O_TRUNC) did: the file it names is replaced,
  // beside itself, and the link stays.
  struct stat link {};
  if (::lstat(path.c_str(), &link) == 0 && S_ISLNK(link.st_mode)) {
    if (char* real = ::realpath(path.c_str(), nullptr)) {
      path_ = real;
      std::free(real);
    }
  }
  lock_ = output_lock(path_);
  std::string temp = sibling_path(path_, "XXXXXX");
  std::vector<char> buf(temp.begin(), temp.end());
  buf.push_back('\0');
  fd_ = ::mkostemp(buf.data(), O_CLOEXEC);
  if (fd_ < 0) throw output_error("cannot create " + path + ": " + std::strerror(errno));
  temp_ = buf.data();
  ::fchmod(fd_, creation_mode());
  owned_ = true;
  regular_ = true;
}

output_file::~output_file() {
  if (owned_ && fd_ >= 0) ::close(fd_);
  remove_temporary();
}

void output_file::remove_temporary() noexcept {
  if (regular_ && !published_ && !temp_.empty()) {
    ::unlink(temp_.c_str());
    temp_.clear();
  }
}

void output_file::publish() {
  if (!regular_ || published_) return;
  const int r = force_ ? ::rename(temp_.c_str(), path_.c_str())
                       : rename_no_replace(temp_.c_str(), path_.c_str());
  if (r != 0) {
    if (errno == EEXIST) {
      throw output_error(path_ +
                         " was created by someone else while recording (use --force to "
                         "overwrite it)");
    }
    throw output_error("cannot create " + path_ + ": " + std::strerror(errno));
  }
  published_ = true;
  temp_.clear();
}

void output_file::discard() noexcept {
  if (!owned_) return;
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  remove_temporary();
  owned_ = false;
}

void output_file::close() {
  if (!owned_ || fd_ < 0) return;
  if (::close(std::exchange(fd_, -1)) != 0) {
    const int err = errno;
    remove_temporary();
    throw output_error("cannot write " + path_ + ": " + std::strerror(err));
  }
  publish();
}

}  // namespace gprofid::cli
