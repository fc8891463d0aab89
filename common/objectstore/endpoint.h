// An object store's endpoint as configured: "host[:port]", optionally with "http://" or
// "https://" in front (plain HTTP is for test stores on loopback only). Pure value.
#pragma once

#include <string>
#include <string_view>

namespace pgbr::objectstore {

enum class UriStyle { Host, Path };  // bucket/account in the host name, or first in the path

struct Endpoint {
  std::string scheme = "https";
  std::string host;  // name or address; an IPv6 address keeps its brackets
  std::string port;  // empty: the scheme's default

  // "host" or "host:port", as the Host header carries it.
  std::string authority() const { return port.empty() ? host : host + ":" + port; }
  std::string url(std::string_view hostPrefix, std::string_view pathAndQuery) const;
};

// Throws Error(OptionInvalidValue) naming `what` (the option) for an empty or malformed endpoint.
Endpoint parseEndpoint(std::string_view text, std::string_view what);

}  // namespace pgbr::objectstore
