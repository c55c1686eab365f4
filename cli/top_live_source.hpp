// `gprof-id top --pid PID`: a recording of a running program streamed from its debug socket
// (docs/attach.md), read by a thread of ours so that the screen never waits on the program,
// handed to the screen's thread in batches.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/attach.hpp"
#include "gprofid/analysis/top_session.hpp"

namespace gprofid::cli {

class top_live_source {
 public:
  // Sends `record INTERVAL_NS 0` to `pid`'s debug service. Throws attach_error (no such
  // process, no service, busy...).
  top_live_source(pid_t pid, std::int64_t interval_ns);
  // Closes the connection (the service ends the recording) and joins the reader.
  ~top_live_source();
  top_live_source(const top_live_source&) = delete;
  top_live_source& operator=(const top_live_source&) = delete;

  // Readable (poll) when samples or the end of the stream arrived.
  int fd() const noexcept { return wake_fd_; }
  // Moves what arrived into `session`, table entries before the samples using them.
  // Returns the number of samples moved.
  std::size_t drain(top_session& session);
  // Once the stream ended: how ("the program's run() returned", or the reader's error).
  std::optional<std::string> ended() const;
  // "process 42 (echo_server)".
  const std::string& name() const noexcept { return name_; }

 private:
  void read_stream();

  struct batch {
    symbol_tables added;  // table entries defined since the previous batch
    sample s;
  };

  attachment conn_;
  std::string name_;
  int wake_fd_ = -1;  // an eventfd the reader bumps
  // guards queue_ and ended_; taken by the reader thread and by drain()/ended(), never nested.
  mutable std::mutex m_;
  std::vector<batch> queue_;
  std::optional<std::string> ended_;
  std::thread reader_;
};

}  // namespace gprofid::cli
