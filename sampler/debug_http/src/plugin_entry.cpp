// libgprofid_http_plugin.so's one exported symbol: what a program linked with gprofid::gprofid
// alone loads with dlopen when GPROFID_DEBUG_HTTP asks for HTTP (debug_http_host.hpp).
#include "http_transport.hpp"

extern "C" __attribute__((visibility("default"))) const gprofid_http_transport_v1*
gprofid_http_plugin_transport_v1() {
  return &gprofid::http_transport();
}
