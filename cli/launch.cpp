#include "cli/launch.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <string_view>
#include <system_error>
#include <thread>

#include "cli/recording_channel.hpp"

extern char** environ;

namespace gprofid::cli {
namespace {

// Why `path` cannot be executed, or "" if it can.
std::string unusable(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::strerror(errno);
  if (S_ISDIR(st.st_mode)) return "is a directory";
  if (::access(path.c_str(), X_OK) != 0) return "not executable";
  return "";
}

class fd_pair {
 public:
  fd_pair() {
    if (::pipe2(fds_, O_CLOEXEC) != 0)
      throw std::system_error(errno, std::generic_category(), "pipe");
  }
  explicit fd_pair(channel_ends ends) noexcept : fds_{ends.recorder, ends.program} {}
  ~fd_pair() {
    close_read();
    close_write();
  }
  fd_pair(const fd_pair&) = delete;
  fd_pair& operator=(const fd_pair&) = delete;
  int read_end() const noexcept { return fds_[0]; }
  int write_end() const noexcept { return fds_[1]; }
  int release_read() noexcept { return std::exchange(fds_[0], -1); }
  void close_read() noexcept {
    if (fds_[0] >= 0) ::close(std::exchange(fds_[0], -1));
  }
  void close_write() noexcept {
    if (fds_[1] >= 0) ::close(std::exchange(fds_[1], -1));
  }

 private:
  int fds_[2] = {-1, -1};
};

child_exit decode(int status) {
  child_exit e;
  if (WIFSIGNALED(status)) {
    e.signal = WTERMSIG(status);
  } else {
    e.exit_status = WEXITSTATUS(status);
  }
  return e;
}

}  // namespace

std::string resolve_program(const std::string& program) {
  if (program.empty()) throw launch_error("no program given");
  if (program.find('/') != std::string::npos) {
    if (auto why = unusable(program); !why.empty()) throw launch_error(program + ": " + why);
    return program;
  }
  const char* path_env = std::getenv("PATH");
  std::string_view path = path_env ? path_env : "/usr/local/bin:/usr/bin:/bin";
  std::string found_unusable;
  while (true) {
    const auto colon = path.find(':');
    std::string dir(path.substr(0, colon));
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + program;
    if (::access(candidate.c_str(), F_OK) == 0) {
      auto why = unusable(candidate);
      if (why.empty()) return candidate;
      if (found_unusable.empty()) found_unusable = candidate + ": " + why;
    }
    if (colon == std::string_view::npos) break;
    path.remove_prefix(colon + 1);
  }
  if (!found_unusable.empty()) throw launch_error(found_unusable);
  throw launch_error(program + ": command not found in $PATH");
}

child_process child_process::launch(const std::vector<std::string>& argv,
                                    const std::vector<std::pair<std::string, std::string>>& env,
                                    bool stdout_to_stderr) {
  if (argv.empty()) throw launch_error("no program given");
  const std::string path = resolve_program(argv[0]);
  adopt_orphans();

  fd_pair recording(make_recording_channel());
  fd_pair exec_errors;  // the child reports a failed exec here; closed by a successful one

  // Everything the child needs is built before fork: after it, only async-signal-safe calls.
  std::vector<std::string> env_strings;
  auto overridden = [&](std::string_view entry) {
    const auto eq = entry.find('=');
    const auto name = entry.substr(0, eq);
    if (name == record_fd_variable) return true;
    for (const auto& [k, v] : env) {
      if (k == name) return true;
    }
    return false;
  };
  for (char** e = environ; e && *e; ++e) {
    if (!overridden(*e)) env_strings.emplace_back(*e);
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  env_strings.push_back(std::string(record_fd_variable) + "=" +
                        std::to_string(recording.write_end()));
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> argp;
  for (auto& s : args) argp.push_back(s.data());
  argp.push_back(nullptr);

  const pid_t pid = ::fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid == 0) {
    // The recorder blocks or ignores signals it handles itself; the program starts clean.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    if (stdout_to_stderr) ::dup2(STDERR_FILENO, STDOUT_FILENO);
    ::fcntl(recording.write_end(), F_SETFD, 0);  // keep it open across exec
    ::execve(path.c_str(), argp.data(), envp.data());
    const int err = errno;
    [[maybe_unused]] auto n = ::write(exec_errors.write_end(), &err, sizeof err);
    ::_exit(127);
  }
  recording.close_write();
  exec_errors.close_write();
  int err = 0;
  ssize_t n;
  do {
    n = ::read(exec_errors.read_end(), &err, sizeof err);
  } while (n < 0 && errno == EINTR);
  if (n == sizeof err) {
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    throw launch_error(argv[0] + ": " + std::strerror(err));
  }
  return child_process(pid, recording.release_read());
}

child_process::child_process(child_process&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)), fd_(std::exchange(o.fd_, -1)), exit_(o.exit_) {}

child_process::~child_process() {
  close_recording_fd();
  if (pid_ > 0 && !exit_) {
    kill(SIGKILL);
    int status;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

void child_process::close_recording_fd() noexcept {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

void child_process::kill(int sig) noexcept {
  if (pid_ > 0 && !exit_) ::kill(pid_, sig);
}

std::optional<child_exit> child_process::try_wait() {
  if (exit_ || pid_ <= 0) return exit_;
  int status;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) exit_ = decode(status);
  return exit_;
}

child_exit child_process::wait_or_kill(std::chrono::milliseconds grace) {
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (!try_wait()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(SIGKILL);
      int status;
      pid_t r;
      do {
        r = ::waitpid(pid_, &status, 0);
      } while (r < 0 && errno == EINTR);
      exit_ = decode(status);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return *exit_;
}

void adopt_orphans() {
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
}

namespace {

// Our living and zombie children, from /proc/self/task/*/children (an orphan is adopted by one
// of our threads, not necessarily the main one).
std::vector<pid_t> children() {
  std::vector<pid_t> out;
  DIR* tasks = ::opendir("/proc/self/task");
  if (!tasks) return out;
  while (const dirent* t = ::readdir(tasks)) {
    if (t->d_name[0] == '.') continue;
    std::ifstream in(std::string("/proc/self/task/") + t->d_name + "/children");
    pid_t pid;
    while (in >> pid) out.push_back(pid);
  }
  ::closedir(tasks);
  return out;
}

void reap_exited() {
  int status;
  while (::waitpid(-1, &status, WNOHANG) > 0) {
  }
}

}  // namespace

std::size_t stop_descendants(std::chrono::milliseconds grace) {
  std::set<pid_t> signalled;
  const auto kill_at = std::chrono::steady_clock::now() + grace;
  // Each round signals our children; when one dies, its own children become ours (adopt_orphans)
  // and are signalled in a later round. Bounded, in case /proc lies or a process is unkillable.
  for (int round = 0; round < 2000; ++round) {
    reap_exited();
    const auto kids = children();
    if (kids.empty()) break;
    const bool late = std::chrono::steady_clock::now() >= kill_at;
    for (pid_t pid : kids) {
      if (late) {
        ::kill(pid, SIGKILL);
      } else if (signalled.insert(pid).second) {
        ::kill(pid, SIGTERM);
      }
      signalled.insert(pid);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return signalled.size();
}

std::string describe(const child_exit& e) {
  if (e.signal) {
    const char* name = ::strsignal(*e.signal);
    return "signal " + std::to_string(*e.signal) + (name ? " (" + std::string(name) + ")" : "");
  }
  return "exit status " + std::to_string(e.exit_status.value_or(0));
}

}  // namespace gprofid::cli
