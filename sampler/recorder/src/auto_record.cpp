#include "gprofid/recorder/auto_record.hpp"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gprofid/environment.hpp"
#include "gprofid/recorder/debug_http_host.hpp"
#include "gprofid/recorder/debug_service.hpp"
#include "gprofid/recorder/periodic_sampler.hpp"
#include "gprofid/recorder/profile.hpp"
#include "gprofid/runtime.hpp"

namespace gprofid {
namespace {

// Parses a whole decimal variable; nullopt (after a message) unless it is in [lo, hi].
std::optional<long long> env_number(const char* name, long long lo, long long hi) {
  const char* text = std::getenv(name);
  if (!text) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < lo || v > hi) {
    std::fprintf(stderr, "gprof-id: ignoring %s=%s (want %lld..%lld)\n", name, text, lo, hi);
    return std::nullopt;
  }
  return v;
}

// Where the private duplicate of the recording descriptor goes: above the numbers a program
// usually has open, so that it is not the next one open() hands out either.
constexpr int private_fd_floor = 100;

class auto_record_service final : public runtime_service {
 public:
  auto_record_service(const auto_record_settings& s, bool owns_fd)
      : settings_(s), owns_fd_(owns_fd) {}
  ~auto_record_service() override {
    if (owns_fd_) ::close(settings_.fd);
  }

  void start(runtime& rt) override {
    recording_options options;
    options.sampling = {.interval_ns = settings_.interval_ns,
                        .max_samples = settings_.max_samples,
                        .max_duration_ns = settings_.max_duration_ns};
    options.format = settings_.format;
    options.command_line = own_command_line();
    if (!options.command_line.empty()) options.workload = options.command_line.front();
    try {
      session_ = start_recording(rt, settings_.fd, options);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "gprof-id: cannot record this program: %s\n", e.what());
    }
  }

  void stop() override {
    if (!session_) return;
    try {
      session_->stop();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "gprof-id: recording failed: %s\n", e.what());
    }
    session_.reset();
    // The recording is complete: the recorder sees its channel end once the program's copy of
    // the descriptor is closed too (or the program exits).
    if (owns_fd_) ::close(std::exchange(settings_.fd, -1));
    owns_fd_ = false;
  }

 private:
  auto_record_settings settings_;
  bool owns_fd_;
  std::unique_ptr<recording_session> session_;
};

}  // namespace

std::optional<auto_record_settings> auto_record_settings_from_env() {
  if (!std::getenv(environment::record_fd.data())) return std::nullopt;
  auto fd = env_number(environment::record_fd.data(), 0, 1 << 20);
  if (!fd) return std::nullopt;
  // Only a socket (what `gprof-id record` passes), a pipe or a file: a descriptor number
  // inherited by accident may name anything.
  struct stat st {};
  if (::fstat(static_cast<int>(*fd), &st) != 0 ||
      !(S_ISSOCK(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISREG(st.st_mode))) {
    std::fprintf(stderr,
                 "gprof-id: GPROFID_RECORD_FD=%lld is not an open socket, pipe or file; not "
                 "recording\n",
                 *fd);
    return std::nullopt;
  }
  auto_record_settings s;
  s.fd = static_cast<int>(*fd);
  if (auto v = env_number(environment::interval_ns.data(), 1, 3'600'000'000'000LL))
    s.interval_ns = *v;
  if (auto v = env_number(environment::max_samples.data(), 0, 1LL << 40)) s.max_samples = *v;
  if (auto v = env_number(environment::duration_ns.data(), 0, 1LL << 62)) s.max_duration_ns = *v;
  if (const char* f = std::getenv(environment::record_format.data())) {
    if (auto e = parse_recording_encoding(f)) {
      s.format = *e;
    } else {
      std::fprintf(stderr, "gprof-id: ignoring %s=%s (want v2 or jsonl)\n",
                   environment::record_format.data(), f);
    }
  }
  return s;
}

void start_auto_record(runtime& rt, const auto_record_settings& s) {
  // Programs this one starts must not write into our recording.
  ::fcntl(s.fd, F_SETFD, ::fcntl(s.fd, F_GETFD) | FD_CLOEXEC);
  // The program knows the descriptor's number and may close it, and the next open() would then
  // reuse the number: the recording is written through a private duplicate instead (closed at
  // stop), and the writer checks before every write that it still names the same file.
  auto_record_settings own = s;
  const int private_fd = ::fcntl(s.fd, F_DUPFD_CLOEXEC, private_fd_floor);
  if (private_fd >= 0) own.fd = private_fd;
  try {
    rt.add_service(std::make_unique<auto_record_service>(own, private_fd >= 0));
  } catch (...) {
    if (private_fd >= 0) ::close(private_fd);
    throw;
  }
}

}  // namespace gprofid

// Defined by gprofid::gprofid_http when the program links it (its transport, linked in); null
// otherwise, and the plugin is loaded instead: the recorder links no HTTP library.
extern "C" __attribute__((weak)) const gprofid_http_transport_v1* gprofid_http_transport_linked();

namespace gprofid {
namespace {

// GPROFID_DEBUG_HTTP's service, on whichever transport there is; problems go to stderr and the
// program runs on without it.
void start_debug_http(runtime& rt, const char* text) {
  std::string why;
  auto options = parse_debug_http_address(text, why);
  if (!options) {
    std::fprintf(stderr, "gprof-id: ignoring %s=%s: %s\n", environment::debug_http.data(), text,
                 why.c_str());
    return;
  }
  // With port 0 the system picks one: the stderr line and the address file tell which.
  options->announce = options->port == 0;
  options->address_file = true;
  const gprofid_http_transport_v1* transport =
      gprofid_http_transport_linked ? gprofid_http_transport_linked() : load_http_plugin(why);
  if (!transport) {
    std::fprintf(stderr, "gprof-id: no debug HTTP: %s\n", why.c_str());
    return;
  }
  rt.add_service(std::make_unique<debug_http_host>(*transport, *options));
}

}  // namespace
}  // namespace gprofid

extern "C" void gprofid_runtime_started(gprofid::runtime* rt) {
  // One recording and one debug socket per process: a second runtime (or a test's many) gets
  // neither.
  static std::atomic<bool> claimed{false};
  if (!rt) return;
  const bool record = std::getenv(gprofid::environment::record_fd.data()) != nullptr;
  const bool debug = gprofid::debug_socket_requested_by_env();
  const char* http_env = std::getenv(gprofid::environment::debug_http.data());
  const bool http = http_env && *http_env != '\0';
  if (!(record || debug || http) || claimed.exchange(true)) return;
  if (record) {
    try {
      if (auto s = gprofid::auto_record_settings_from_env()) gprofid::start_auto_record(*rt, *s);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "gprof-id: cannot record this program: %s\n", e.what());
    }
  }
  if (debug) {
    try {
      rt->add_service(std::make_unique<gprofid::debug_service>());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "gprof-id: no debug socket: %s\n", e.what());
    }
  }
  if (http) {
    try {
      gprofid::start_debug_http(*rt, http_env);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "gprof-id: no debug HTTP: %s\n", e.what());
    }
  }
}
