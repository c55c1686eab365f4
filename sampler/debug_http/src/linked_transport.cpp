// gprofid::gprofid_http's definition of the recorder's weak gprofid_http_transport_linked: with
// it linked in, GPROFID_DEBUG_HTTP serves on this transport and loads no plugin.
#include "http_transport.hpp"

extern "C" const gprofid_http_transport_v1* gprofid_http_transport_linked() {
  return &gprofid::http_transport();
}
