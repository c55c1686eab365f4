// Starting the program that `gprof-id record -- PROGRAM ARGS...` records: fork/exec with a
// channel (cli/recording_channel.hpp) the program's runtime writes its recording to, and
// reaping it with its exit status.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "gprofid/environment.hpp"

namespace gprofid::cli {

// The program cannot be started (missing, not executable); what() is one line for the user.
class launch_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// How a child process ended: exactly one of the two is set.
struct child_exit {
  std::optional<int> exit_status;
  std::optional<int> signal;
};

// The absolute or relative path `program` resolves to: as given when it contains a '/', else
// searched in $PATH like a shell does. Throws launch_error if it is missing or not executable.
std::string resolve_program(const std::string& program);

// A running child process and the read end of the channel it was handed. Destroying it kills
// (SIGKILL) and reaps the child if it is still running.
class child_process {
 public:
  // Name of the variable that holds, in the child, the channel's write end.
  static constexpr const char* record_fd_variable = environment::record_fd.data();

  // Starts argv[0] with `env` added to (or replacing in) the current environment, plus
  // GPROFID_RECORD_FD. With `stdout_to_stderr` the program's stdout goes to our stderr (when the
  // recording itself goes to stdout). Throws launch_error when argv[0] cannot be run,
  // std::system_error when fork or the channel fail.
  static child_process launch(const std::vector<std::string>& argv,
                              const std::vector<std::pair<std::string, std::string>>& env,
                              bool stdout_to_stderr = false);

  child_process(child_process&& o) noexcept;
  child_process& operator=(child_process&&) = delete;
  child_process(const child_process&) = delete;
  ~child_process();

  pid_t pid() const noexcept { return pid_; }
  // The read end of the recording channel (non-blocking, receive_chunk()); -1 once closed.
  int recording_fd() const noexcept { return fd_; }
  void close_recording_fd() noexcept;

  // Sends `sig` unless the child has been reaped.
  void kill(int sig) noexcept;
  // Reaps the child if it has exited.
  std::optional<child_exit> try_wait();
  // Waits up to `grace` for the child to exit, then kills it with SIGKILL; returns how it ended.
  child_exit wait_or_kill(std::chrono::milliseconds grace);
  const std::optional<child_exit>& exited() const noexcept { return exit_; }

 private:
  child_process(pid_t pid, int fd) noexcept : pid_(pid), fd_(fd) {}
  pid_t pid_ = -1;
  int fd_ = -1;
  std::optional<child_exit> exit_;
};

// "exit status 3", "signal 9 (Killed)".
std::string describe(const child_exit& e);

// Makes this process the reaper of its orphaned descendants (PR_SET_CHILD_SUBREAPER): what a
// recorded program leaves running when it exits, even after setsid() or a double fork, becomes
// our child, so that stop_descendants() can find it. child_process::launch calls it.
void adopt_orphans();

// Ends every process descended from this one that is still running: SIGTERM, then SIGKILL to
// whatever is left after `grace`, reaping each. Returns how many there were. Call once the
// recorded program itself has been reaped.
std::size_t stop_descendants(std::chrono::milliseconds grace);

}  // namespace gprofid::cli
