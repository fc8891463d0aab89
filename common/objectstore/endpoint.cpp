#include "common/objectstore/endpoint.h"

#include "common/error.h"

namespace pgbr::objectstore {

std::string Endpoint::url(std::string_view hostPrefix, std::string_view pathAndQuery) const {
  std::string out = scheme + "://";
  if (!hostPrefix.empty()) out += std::string(hostPrefix) + ".";
  out += authority();
  out += pathAndQuery;
  return out;
}

Endpoint parseEndpoint(std::string_view text, std::string_view what) {
  Endpoint endpoint;
  std::string_view rest = text;
  if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    endpoint.scheme = "http";
    rest.remove_prefix(7);
  }
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  auto bad = [&](std::string_view why) {
    fail(ErrorCode::OptionInvalidValue, "{} is '{}': {}; expected host[:port], optionally after http:// or https://",
         what, text, why);
  };
  if (rest.empty()) bad("no host");
  if (rest.find('/') != std::string_view::npos || rest.find('?') != std::string_view::npos ||
      rest.find('@') != std::string_view::npos)
    bad("an endpoint has no path, query or user");
  size_t colon = rest.rfind(':');
  bool ipv6 = rest.front() == '[';
  if (ipv6 && rest.find(']') == std::string_view::npos) bad("an IPv6 address needs its closing ']'");
  if (colon != std::string_view::npos && (!ipv6 || colon > rest.find(']'))) {
    std::string_view port = rest.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos)
      bad("the port is not a number");
    endpoint.port = std::string(port);
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) bad("no host");
  endpoint.host = std::string(rest);
  return endpoint;
}

}  // namespace pgbr::objectstore
