// Where `gprof-id record` and `export` write: stdout, a device or FIFO written in place, or a
// regular file written atomically. A regular file is written to a temporary ".NAME.XXXXXX" in
// the same directory and renamed to NAME by publish() (record calls it once the first sample is
// written, so NAME always holds a readable recording) or by close() at the latest; a run that
// fails before then leaves NAME as it was, and an existing NAME is replaced only with --force.
// While one gprof-id writes NAME, another trying to is refused (cli/output_lock.hpp).
#pragma once

#include <sys/types.h>

#include <stdexcept>
#include <string>

#include "cli/output_lock.hpp"

namespace gprofid::cli {

// The output cannot be opened; what() is one line for the user.
class output_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class output_file {
 public:
  // "-" is stdout. Otherwise `path` must not exist unless `force`, and must not be a directory.
  // An existing device or FIFO (/dev/null, /dev/full, a named pipe) is written as it is.
  output_file(const std::string& path, bool force);
  // Removes a temporary that was never published.
  ~output_file();
  output_file(const output_file&) = delete;
  output_file& operator=(const output_file&) = delete;

  int fd() const noexcept { return fd_; }
  // "out.jsonl", or "stdout".
  const std::string& name() const noexcept { return name_; }

  // Gives what was written so far its name (writes then go on to the same file). Without force,
  // a NAME created by someone else meanwhile is not replaced: output_error. Nothing for stdout,
  // a device or a FIFO, or when already published.
  void publish();
  bool published() const noexcept { return published_ || !regular_; }
  // The run failed: closes, and removes the temporary if it was never published (an existing
  // NAME stays as it was). A published file is kept: it holds whole lines of a recording.
  void discard() noexcept;
  // Closes the file, reporting a failed close (e.g. a deferred write error), then publishes it.
  void close();

 private:
  void remove_temporary() noexcept;

  std::string path_;
  std::string name_;
  std::string temp_;  // the temporary's path until published
  bool force_ = false;
  int fd_ = -1;
  bool owned_ = false;
  bool regular_ = false;  // written through a temporary, and locked
  bool published_ = false;
  output_lock lock_;
};

}  // namespace gprofid::cli
