// A program on the runtime that misuses the recording channel `gprof-id record` hands it, for
// tests/reliability/fault_test.sh (docs/guarantees.md). Usage: channel_abuse MODE
//   reuse          closes GPROFID_RECORD_FD's number and puts a file of its own (own.txt) there:
//                  nothing of the recording may land in that file (exit 9 if something did)
//   close-channel  closes every descriptor of the channel, the runtime's private copy included:
//                  the recorder must say that the program closed it
//   fork           a forked child writes a sample line to the channel: the recorder rejects it
// Each misuses the channel after 300 ms, runs a second more on one worker and exits 0.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "gprofid/runtime.hpp"
#include "gprofid/sleep.hpp"

using namespace std::chrono_literals;

namespace {

// Closes every descriptor that names the same socket or pipe as `fd`.
void close_copies_of(int fd) {
  struct stat target {};
  if (::fstat(fd, &target) != 0) return;
  for (int i = 0; i < 4096; ++i) {
    struct stat st {};
    if (::fstat(i, &st) == 0 && st.st_dev == target.st_dev && st.st_ino == target.st_ino) {
      ::close(i);
    }
  }
}

// After a few samples are out (the recorder is then sure to have seen the recording start),
// misuses the channel, then runs a second more.
gprofid::task<void> misuse(std::string mode, int fd, int& own) {
  co_await gprofid::sleep_for(300ms);
  if (mode == "reuse") {
    ::close(fd);
    own = ::open("own.txt", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (own >= 0 && own != fd) {
      ::dup2(own, fd);
      ::close(own);
    }
    own = fd;
  } else if (mode == "close-channel") {
    close_copies_of(fd);
  } else {
    const pid_t child = ::fork();
    if (child == 0) {
      constexpr char line[] =
          "{\"type\":\"sample\",\"seq\":99,\"t_ns\":1,\"snapshot_ns\":1,\"pause_ns\":0,"
          "\"goroutines\":[]}\n";
      [[maybe_unused]] auto n = ::write(fd, line, sizeof line - 1);
      ::_exit(0);
    }
    ::waitpid(child, nullptr, 0);
  }
  co_await gprofid::sleep_for(1s);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  const char* fd_text = std::getenv("GPROFID_RECORD_FD");
  if (!fd_text || (mode != "reuse" && mode != "close-channel" && mode != "fork")) {
    std::fprintf(stderr, "usage: GPROFID_RECORD_FD=N channel_abuse reuse|close-channel|fork\n");
    return 2;
  }
  const int fd = std::atoi(fd_text);
  gprofid::runtime rt({.workers = 1});  // starts recording (the auto-record hook)
  int own = -1;
  rt.run(misuse(mode, fd, own));
  if (own >= 0) {
    struct stat st {};
    if (::fstat(own, &st) == 0 && st.st_size != 0) {
      std::fprintf(stderr, "channel_abuse: %lld bytes of the recording landed in own.txt\n",
                   static_cast<long long>(st.st_size));
      return 9;
    }
  }
  return 0;
}
