// `--pid PID`: finding a running program's debug socket (docs/attach.md), telling apart the ways
// it can be missing, sending the request and reading the first line of the answer.
#pragma once

#include <sys/types.h>

#include <stdexcept>
#include <string>

#include "gprofid/recorder/debug_protocol.hpp"

namespace gprofid::cli {

// Attaching failed; what() is one line for the user ("process 42 is not running", ...).
class attach_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A connection to a program's debug socket whose answer has begun with a recording.
class attachment {
 public:
  // Connects to `pid`'s socket, sends `request` and reads the answer's first line. Throws
  // attach_error when there is no such process, it is another user's, it has no debug service,
  // or the service answers with an error line (busy, ...).
  attachment(pid_t pid, const debug_request& request);
  ~attachment();
  attachment(const attachment&) = delete;
  attachment& operator=(const attachment&) = delete;

  int fd() const noexcept { return fd_; }
  // What has been read so far: the recording's first line, and maybe more.
  const std::string& received() const noexcept { return received_; }
  // The program's name (/proc/PID/comm), for messages.
  const std::string& name() const noexcept { return name_; }
  // Tells the service to end the recording (it writes the end line, then closes).
  void finish() noexcept;

 private:
  int fd_ = -1;
  std::string received_;
  std::string name_;
};

}  // namespace gprofid::cli
