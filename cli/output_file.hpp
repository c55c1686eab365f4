// Where `gprof-id record` writes: a new file (never clobbering one unless forced) or stdout, and
// removed again when the recording fails before it holds anything useful.
#pragma once

#include <stdexcept>
#include <string>

namespace gprofid::cli {

// The output cannot be opened; what() is one line for the user.
class output_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class output_file {
 public:
  // "-" is stdout. Otherwise creates `path`; an existing file is an error unless `force`. An
  // existing device or FIFO (/dev/null, /dev/full, a named pipe) is written as it is.
  output_file(const std::string& path, bool force);
  ~output_file();
  output_file(const output_file&) = delete;
  output_file& operator=(const output_file&) = delete;

  int fd() const noexcept { return fd_; }
  // "out.jsonl", or "stdout".
  const std::string& name() const noexcept { return name_; }
  // Closes and deletes the file (nothing for stdout, a device or a FIFO): the recording is not
  // worth keeping.
  void discard() noexcept;
  // Closes the file, reporting a failed close (e.g. a deferred write error).
  void close();

 private:
  std::string path_;
  std::string name_;
  int fd_ = -1;
  bool owned_ = false;
  bool regular_ = false;  // only a regular file we created or truncated is ever deleted
};

}  // namespace gprofid::cli
