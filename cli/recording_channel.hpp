// The channel a recorded program writes its recording to: a Unix stream socket rather than a
// pipe, because the kernel then says which process wrote each byte (SCM_CREDENTIALS with
// SO_PASSCRED, and a read never joins bytes of two writers). A child that inherited the
// descriptor, or anything else that writes to it, is told apart from the program that owns it.
#pragma once

#include <sys/types.h>

#include <cstddef>

namespace gprofid::cli {

struct channel_ends {
  int recorder = -1;  // read end: non-blocking, close-on-exec, SO_PASSCRED set
  int program = -1;   // write end, close-on-exec (launch clears that in the child only)
};

// Throws std::system_error when the socket cannot be made.
channel_ends make_recording_channel();

// What one read returned: `size` bytes (0 at end of file, -1 with errno set, EAGAIN when
// nothing is there) written by process `sender` (0 when the kernel did not say).
struct channel_chunk {
  ssize_t size = 0;
  pid_t sender = 0;
};
channel_chunk receive_chunk(int fd, char* buf, std::size_t capacity);

}  // namespace gprofid::cli
