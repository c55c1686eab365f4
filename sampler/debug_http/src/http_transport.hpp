// The HTTP debug service's transport (http_transport_abi.hpp): cpp-httplib with the bounds of
// bounded_http_server, every request handed to the program's answer() and its answer sent back.
// Nothing of gprof-id's runtime or recorder is linked here, so the same code is the plugin
// libgprofid_http_plugin.so and the transport gprofid::gprofid_http links in.
#pragma once

#include "gprofid/recorder/http_transport_abi.hpp"

namespace gprofid {

const gprofid_http_transport_v1& http_transport() noexcept;

}  // namespace gprofid
