// The HTTP half of the auto-start hook: the recorder's gprofid_runtime_started calls this
// (a weak reference there) when GPROFID_DEBUG_HTTP is set, if the program links
// gprofid::gprofid_http.
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "gprofid/debug_http/debug_http_service.hpp"
#include "gprofid/environment.hpp"

extern "C" void gprofid_debug_http_start(gprofid::runtime* rt) {
  const char* text = std::getenv(gprofid::environment::debug_http.data());
  if (!rt || !text || *text == '\0') return;
  std::string why;
  auto options = gprofid::parse_debug_http_address(text, why);
  if (!options) {
    std::fprintf(stderr, "gprof-id: ignoring %s=%s: %s\n", gprofid::environment::debug_http.data(),
                 text, why.c_str());
    return;
  }
  // With port 0 the system picks one, and this line is how the user learns it.
  options->announce = options->port == 0;
  try {
    rt->add_service(std::make_unique<gprofid::debug_http_service>(*options));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gprof-id: no debug HTTP: %s\n", e.what());
  }
}
