// An exclusive claim on an output path while one gprof-id writes it, so that two runs given the
// same -o never both believe they wrote it: a lock file ".NAME.gprof-id-lock" beside the output,
// held with flock() (released by the kernel if the holder dies) and removed on release.
#pragma once

#include <string>

namespace gprofid::cli {

class output_lock {
 public:
  output_lock() = default;
  // Takes the lock for `path` without waiting. Throws output_error (cli/output_file.hpp) when
  // another process holds it ("... is being written by another gprof-id (pid N)") or the lock
  // file cannot be created.
  explicit output_lock(const std::string& path);
  ~output_lock();
  output_lock(output_lock&& o) noexcept;
  output_lock& operator=(output_lock&& o) noexcept;
  output_lock(const output_lock&) = delete;
  output_lock& operator=(const output_lock&) = delete;

  // Removes the lock file and releases the lock.
  void release() noexcept;

 private:
  std::string lock_path_;
  int fd_ = -1;
};

// "dir/.name.SUFFIX" for "dir/name": a hidden file in the same directory as `path`.
std::string sibling_path(const std::string& path, const std::string& suffix);

}  // namespace gprofid::cli
