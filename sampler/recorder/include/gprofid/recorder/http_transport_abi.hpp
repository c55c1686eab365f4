// The boundary between the HTTP debug service's two halves (docs/fleet.md):
// - the answers, computed inside every program linked with gprofid::gprofid
//   (debug_http_answers.hpp), which links no HTTP, TLS or compression library;
// - the transport, cpp-httplib with bounds (sampler/debug_http/), either linked in
//   (gprofid::gprofid_http) or loaded with dlopen from the plugin libgprofid_http_plugin.so when
//   GPROFID_DEBUG_HTTP asks for it.
// C types only, so that a plugin and a program need agree on nothing but this version: the
// plugin may come from another build (or compiler) than the program.
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" {

// One request, valid for the duration of the answer call.
struct gprofid_http_request_v1 {
  const char* method;
  std::size_t method_size;
  const char* path;
  std::size_t path_size;
  const char* debug;  // the `debug` query parameter, null when absent
  std::size_t debug_size;
};

// One answer, valid for the duration of the reply call. `headers` holds header_count name and
// value pairs (2 * header_count strings). With `gzip` set the transport sends the body
// gzip-compressed (a profile.proto, as Go's /debug/pprof serves it): compression is the
// transport's, whose libraries include zlib, so that the program links none.
struct gprofid_http_answer_v1 {
  int status;
  const char* content_type;
  const char* body;
  std::size_t body_size;
  const char* const* headers;
  std::size_t header_count;
  int gzip;
};

// The program's side, handed to the transport. answer() runs on a transport thread, for any
// method; it calls reply(reply_context, &answer) exactly once before it returns, and never
// throws.
struct gprofid_http_host_v1 {
  void* context;
  void (*answer)(void* context, const gprofid_http_request_v1* request,
                 void (*reply)(void* reply_context, const gprofid_http_answer_v1* answer),
                 void* reply_context);
};

// Where to listen and the bounds (debug_http_options documents each).
struct gprofid_http_listen_v1 {
  const char* host;  // an IP address
  int port;          // 0: any free port
  std::size_t max_active;
  std::size_t max_queued;
  std::size_t max_request_bytes;
  std::int64_t request_timeout_ns;
  std::int64_t send_timeout_ns;
};

// The transport's side.
struct gprofid_http_transport_v1 {
  // Binds and listens, then serves on its own threads until stop(). Returns the server, and its
  // port in *bound_port; or null, with a one-line reason (and errno's value in *error_number,
  // 0 if none) in error[error_size].
  void* (*start)(const gprofid_http_listen_v1* where, const gprofid_http_host_v1* host,
                 int* bound_port, char* error, std::size_t error_size, int* error_number);
  // Stops listening, lets requests in progress finish (each bounded by the timeouts) and joins
  // every thread; no answer() call is running or will start once it returns.
  void (*stop)(void* server);
};

// What the plugin exports (and gprofid::gprofid_http defines): the transport's table.
using gprofid_http_transport_v1_fn = const gprofid_http_transport_v1* (*)();
}

namespace gprofid {

inline constexpr const char* http_transport_symbol = "gprofid_http_plugin_transport_v1";
// The interface's version, the number at the end of http_transport_symbol: a plugin of another
// version exports the prefix with its own number, and is told apart by it.
inline constexpr int http_transport_version = 1;
inline constexpr const char* http_transport_symbol_prefix = "gprofid_http_plugin_transport_v";
// The plugin's file name, looked for where ld.so looks for the program's libraries (its RUNPATH,
// which the CMake package and gprofid.pc set to LIBDIR/gprofid, LD_LIBRARY_PATH, the system's
// directories), then in the configured LIBDIR/gprofid, then in ld.so's cache.
inline constexpr const char* http_plugin_name = "libgprofid_http_plugin.so";

}  // namespace gprofid
