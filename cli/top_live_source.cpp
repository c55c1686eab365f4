#include "cli/top_live_source.hpp"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <istream>
#include <streambuf>

#include "gprofid/analysis/recording_reader.hpp"

namespace gprofid::cli {
namespace {

// The socket as an input stream: what the attachment already read, then blocking reads, so
// that the ordinary recording reader parses the live stream.
class socket_input : public std::streambuf {
 public:
  socket_input(int fd, std::string first) : fd_(fd), buf_(std::move(first)) {
    char* p = buf_.data();
    setg(p, p, p + buf_.size());
  }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    buf_.resize(65536);
    ssize_t n;
    do {
      n = ::recv(fd_, buf_.data(), buf_.size(), 0);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return traits_type::eof();
    setg(buf_.data(), buf_.data(), buf_.data() + n);
    return traits_type::to_int_type(*gptr());
  }

 private:
  int fd_;
  std::string buf_;
};

debug_request record_request(std::int64_t interval_ns) {
  debug_request r;
  r.what = debug_request::kind::record;
  r.interval_ns = interval_ns;
  r.duration_ns = 0;  // until we hang up
  return r;
}

template <class T>
void append_from(std::vector<T>& to, const std::vector<T>& from, std::size_t at) {
  to.insert(to.end(), from.begin() + static_cast<std::ptrdiff_t>(at), from.end());
}

}  // namespace

top_live_source::top_live_source(pid_t pid, std::int64_t interval_ns)
    : conn_(pid, record_request(interval_ns)),
      name_("process " + std::to_string(pid) + " (" + conn_.name() + ")") {
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) throw attach_error(std::string("eventfd: ") + std::strerror(errno));
  reader_ = std::thread([this] { read_stream(); });
}

top_live_source::~top_live_source() {
  // Both directions: the reader's recv returns at once, whatever the service does.
  ::shutdown(conn_.fd(), SHUT_RDWR);
  if (reader_.joinable()) reader_.join();
  ::close(wake_fd_);
}

void top_live_source::read_stream() {
  std::string why;
  try {
    socket_input buf(conn_.fd(), conn_.received());
    std::istream in(&buf);
    recording_reader reader(in, name_);
    table_marks marks;
    sample s;
    while (reader.next(s)) {
      const symbol_tables& t = reader.tables();
      batch b;
      append_from(b.added.sites, t.sites, marks.sites);
      append_from(b.added.frames, t.frames, marks.frames);
      append_from(b.added.stacks, t.stacks, marks.stacks);
      marks = {static_cast<std::uint32_t>(t.sites.size()),
               static_cast<std::uint32_t>(t.frames.size()),
               static_cast<std::uint32_t>(t.stacks.size())};
      b.s = std::move(s);
      s = {};
      {
        std::lock_guard lock(m_);
        queue_.push_back(std::move(b));
      }
      const std::uint64_t one = 1;
      (void)!::write(wake_fd_, &one, sizeof one);
    }
    why = reader.end()
              ? "the recording ended (" + std::string(to_string(reader.end()->reason)) + ")"
              : "the connection closed without an end line (did the program die?)";
  } catch (const std::exception& e) {
    why = e.what();
  }
  {
    std::lock_guard lock(m_);
    ended_ = std::move(why);
  }
  const std::uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
}

std::size_t top_live_source::drain(top_session& session) {
  std::uint64_t count;
  (void)!::read(wake_fd_, &count, sizeof count);
  std::vector<batch> got;
  {
    std::lock_guard lock(m_);
    got.swap(queue_);
  }
  if (got.empty()) return 0;
  std::vector<sample> samples;
  samples.reserve(got.size());
  symbol_tables& t = session.tables();
  for (batch& b : got) {
    append_from(t.sites, b.added.sites, 0);
    append_from(t.frames, b.added.frames, 0);
    append_from(t.stacks, b.added.stacks, 0);
    samples.push_back(std::move(b.s));
  }
  session.add(std::move(samples));
  return got.size();
}

std::optional<std::string> top_live_source::ended() const {
  std::lock_guard lock(m_);
  return ended_;
}

}  // namespace gprofid::cli
