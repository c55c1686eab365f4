#include "gprofid/debug_http/debug_http_service.hpp"

#include <utility>

#include "http_transport.hpp"

namespace gprofid {

debug_http_service::debug_http_service(debug_http_options options)
    : host_(http_transport(), std::move(options)) {}

void debug_http_service::start(runtime& rt) {
  host_.start(rt);
}

void debug_http_service::stop() {
  host_.stop();
}

}  // namespace gprofid
