// The HTTP debug service inside a program: debug_http_answers served by an HTTP transport
// (http_transport_abi.hpp). Every program linked with gprofid::gprofid has it: GPROFID_DEBUG_HTTP
// starts it (auto_record.cpp) with the transport linked in (gprofid::gprofid_http) or, without
// one, with the plugin libgprofid_http_plugin.so, loaded only then, so that a program links no
// HTTP, TLS or compression library (docs/fleet.md). gprofid::debug_http_service is this with
// the linked transport.
#pragma once

#include <memory>
#include <string>

#include "gprofid/recorder/debug_http_answers.hpp"
#include "gprofid/recorder/debug_http_options.hpp"
#include "gprofid/recorder/http_transport_abi.hpp"
#include "gprofid/runtime.hpp"

namespace gprofid {

class debug_http_host final : public runtime_service {
 public:
  debug_http_host(const gprofid_http_transport_v1& transport, debug_http_options options);
  ~debug_http_host() override;  // stop()
  debug_http_host(const debug_http_host&) = delete;
  debug_http_host& operator=(const debug_http_host&) = delete;

  // Binds and listens, then serves on the transport's threads. Throws std::system_error
  // (what(): the address and the reason) if it cannot bind.
  void start(runtime& rt) override;
  // Stops the transport (requests in progress finish, bounded by the timeouts), removes the
  // address file. Idempotent.
  void stop() override;

  // The port it listens on (the one the system chose when options.port was 0); 0 before start.
  int port() const noexcept { return port_; }
  // Where the bound address was written (options.address_file), or "".
  const std::string& address_file() const noexcept { return address_file_; }

 private:
  const gprofid_http_transport_v1& transport_;
  debug_http_options options_;
  std::unique_ptr<debug_http_answers> answers_;
  gprofid_http_host_v1 host_{};
  void* server_ = nullptr;
  int port_ = 0;
  std::string address_file_;
};

// The plugin's transport, loaded once (and never unloaded) by the first call; null, with a
// one-line reason in `error`, if it cannot be found or is not a gprof-id HTTP plugin.
const gprofid_http_transport_v1* load_http_plugin(std::string& error);

}  // namespace gprofid
