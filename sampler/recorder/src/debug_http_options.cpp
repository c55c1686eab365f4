#include "gprofid/recorder/debug_http_options.hpp"

#include <arpa/inet.h>

#include <charconv>

namespace gprofid {

std::optional<debug_http_options> parse_debug_http_address(std::string_view text,
                                                           std::string& error) {
  debug_http_options o;
  std::string_view port_text = text;
  const auto colon = text.rfind(':');
  if (colon != std::string_view::npos) {
    std::string_view host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
      host = host.substr(1, host.size() - 2);
    if (host.empty()) {
      error = "\"" + std::string(text) +
              "\" names no address: say 127.0.0.1:PORT (this machine only) or 0.0.0.0:PORT "
              "(every interface)";
      return std::nullopt;
    }
    unsigned char addr[16];
    const std::string h(host);
    if (::inet_pton(AF_INET, h.c_str(), addr) != 1 && ::inet_pton(AF_INET6, h.c_str(), addr) != 1) {
      error = "\"" + h.substr(0, 60) + "\" is not an IP address";
      return std::nullopt;
    }
    o.host = h;
  }
  int port = -1;
  const auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || p != port_text.data() + port_text.size() || port < 0 || port > 65535) {
    error = "port \"" + std::string(port_text.substr(0, 20)) + "\" is not a number in 0..65535";
    return std::nullopt;
  }
  o.port = port;
  return o;
}

std::string http_address_text(const std::string& host, int port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace gprofid
