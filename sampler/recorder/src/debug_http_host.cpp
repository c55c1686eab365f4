#include "gprofid/recorder/debug_http_host.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <system_error>
#include <utility>
#include <vector>

#include "gprofid/recorder/debug_protocol.hpp"

namespace gprofid {
namespace {

std::string_view view(const char* p, std::size_t n) {
  return p ? std::string_view(p, n) : std::string_view();
}

// The transport's call, on one of its threads.
void answer_request(void* context, const gprofid_http_request_v1* request,
                    void (*reply)(void*, const gprofid_http_answer_v1*), void* reply_context) {
  auto& answers = *static_cast<debug_http_answers*>(context);
  http_question q{.method = view(request->method, request->method_size),
                  .path = view(request->path, request->path_size)};
  if (request->debug) q.debug = view(request->debug, request->debug_size);
  const http_answer a = answers.answer(q);
  std::vector<const char*> headers;
  try {
    for (const auto& [name, value] : a.headers) {
      headers.push_back(name.c_str());
      headers.push_back(value.c_str());
    }
  } catch (const std::bad_alloc&) {
    headers.clear();  // the answer without its extra headers
  }
  const gprofid_http_answer_v1 out{.status = a.status,
                                   .content_type = a.content_type.c_str(),
                                   .body = a.body.data(),
                                   .body_size = a.body.size(),
                                   .headers = headers.data(),
                                   .header_count = headers.size() / 2,
                                   .gzip = a.gzip ? 1 : 0};
  reply(reply_context, &out);
}

// The directories ld.so searches for the program's own libraries, in its order: its RPATH,
// LD_LIBRARY_PATH, its RUNPATH (where gprofid::gprofid puts the plugin's directory), the
// system's. Asked of ld.so rather than left to dlopen(name), which reads the RUNPATH of its
// *caller*: under ASan that is the sanitizer's interceptor, not the program.
std::vector<std::string> program_library_path() {
  void* self = ::dlopen(nullptr, RTLD_NOW);
  Dl_serinfo size{};
  if (!self || ::dlinfo(self, RTLD_DI_SERINFOSIZE, &size) != 0) return {};
  std::vector<std::max_align_t> storage(size.dls_size / sizeof(std::max_align_t) + 1);
  auto* info = reinterpret_cast<Dl_serinfo*>(storage.data());
  info->dls_size = size.dls_size;
  info->dls_cnt = size.dls_cnt;
  if (::dlinfo(self, RTLD_DI_SERINFO, info) != 0) return {};
  std::vector<std::string> dirs;
  for (unsigned i = 0; i < info->dls_cnt; ++i) {
    if (info->dls_serpath[i].dls_name && info->dls_serpath[i].dls_name[0] != '\0')
      dirs.emplace_back(info->dls_serpath[i].dls_name);
  }
  return dirs;
}

// Written whole under a temporary name and renamed, so a reader never sees half an address.
void write_address_file(const std::string& path, const std::string& address) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), tmp);
  const std::string line = address + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  const int err = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = ok ? errno : err;
    ::unlink(tmp.c_str());
    throw std::system_error(e, std::generic_category(), path);
  }
}

}  // namespace

debug_http_host::debug_http_host(const gprofid_http_transport_v1& transport,
                                 debug_http_options options)
    : transport_(transport), options_(std::move(options)) {}

debug_http_host::~debug_http_host() {
  stop();
}

void debug_http_host::start(runtime& rt) {
  answers_ = std::make_unique<debug_http_answers>(rt, options_.snapshots);
  host_ = {.context = answers_.get(), .answer = answer_request};
  const gprofid_http_listen_v1 where{.host = options_.host.c_str(),
                                     .port = options_.port,
                                     .max_active = options_.max_active,
                                     .max_queued = options_.max_queued,
                                     .max_request_bytes = options_.max_request_bytes,
                                     .request_timeout_ns = options_.request_timeout_ns,
                                     .send_timeout_ns = options_.send_timeout_ns};
  char error[256] = "";
  int error_number = 0;
  int port = 0;
  server_ = transport_.start(&where, &host_, &port, error, sizeof error, &error_number);
  if (!server_) {
    answers_.reset();
    throw std::system_error(error_number != 0 ? error_number : EADDRNOTAVAIL,
                            std::generic_category(), error);
  }
  port_ = port;
  const std::string address = http_address_text(options_.host, port_);
  if (options_.address_file) {
    const std::string dir = debug_socket_dir(std::getenv("XDG_RUNTIME_DIR"));
    const std::string path = debug_http_address_path(dir, ::getpid());
    // The service serves without it; a tool then has the stderr line or `ss -ltnp`.
    try {
      ensure_private_debug_dir(dir, true);
      remove_stale_debug_sockets(dir);
      write_address_file(path, address);
      address_file_ = path;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "gprof-id: no debug HTTP address file: %s\n", e.what());
    }
  }
  if (options_.announce) {
    std::fprintf(stderr, "gprof-id: debug HTTP on http://%s/debug/pprof/ (pid %d)\n",
                 address.c_str(), static_cast<int>(::getpid()));
  }
}

void debug_http_host::stop() {
  if (!server_) return;
  transport_.stop(std::exchange(server_, nullptr));
  answers_.reset();
  if (!address_file_.empty()) ::unlink(std::exchange(address_file_, {}).c_str());
}

const gprofid_http_transport_v1* load_http_plugin(std::string& error) {
  // Guards the one load; later calls get its result.
  static std::once_flag once;
  static const gprofid_http_transport_v1* loaded = nullptr;
  static std::string why;
  std::call_once(once, [] {
    // RTLD_LOCAL: the plugin's libraries (cpp-httplib, OpenSSL, zlib) stay out of the
    // program's symbol lookups. Never closed: a later service may start it again.
    constexpr int mode = RTLD_NOW | RTLD_LOCAL;
    void* lib = nullptr;
    std::string failed;  // a plugin that was found but did not load, and why
    std::vector<std::string> dirs = program_library_path();
#ifdef GPROFID_PLUGIN_DIR
    // The configured install directory, for a program linked without the package's RUNPATH.
    dirs.emplace_back(GPROFID_PLUGIN_DIR);
#endif
    std::string found = http_plugin_name;  // the file loaded, for messages
    for (const std::string& dir : dirs) {
      const std::string path = dir + "/" + http_plugin_name;
      if (::access(path.c_str(), F_OK) != 0) continue;
      // The first file found is the plugin, as ld.so takes the first library of a name: one
      // that does not load is reported, not passed over for another that may be older.
      found = path;
      if (!(lib = ::dlopen(path.c_str(), mode))) failed = ::dlerror();
      break;
    }
    // ld.so's cache, which is no directory.
    if (!lib && failed.empty() && !(lib = ::dlopen(http_plugin_name, mode))) failed = ::dlerror();
    if (!lib) {
      // dlerror() names the file and says why (not an ELF file, wrong architecture...).
      why = "cannot load " + std::string(http_plugin_name) + " (" + failed +
            "): install gprof-id's package, or link gprofid::gprofid_http";
      return;
    }
    auto entry =
        reinterpret_cast<gprofid_http_transport_v1_fn>(::dlsym(lib, http_transport_symbol));
    if (entry && (loaded = entry())) return;
    // A plugin of another interface version (an older or newer gprof-id's) says which.
    for (int v = 0; v < 100 && !entry; ++v) {
      const std::string other = http_transport_symbol_prefix + std::to_string(v);
      if (v != http_transport_version && ::dlsym(lib, other.c_str())) {
        why = found + " is a gprof-id HTTP plugin of interface version " + std::to_string(v) +
              ", this program needs version " + std::to_string(http_transport_version) +
              ": install the plugin of the program's gprof-id, or link gprofid::gprofid_http";
        return;
      }
    }
    why = found + (entry ? " gave no transport"
                         : " is not a gprof-id HTTP plugin (no " +
                               std::string(http_transport_symbol) + ")");
  });
  if (!loaded) error = why;
  return loaded;
}

}  // namespace gprofid
