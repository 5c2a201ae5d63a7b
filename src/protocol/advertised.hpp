// advertised: the addresses a node gives the other nodes of its cluster (docs/cluster.md, "Finding
// the nodes"), and the origin a browser names a page by, to compare the two. String rules only.
#pragma once

#include <string>
#include <string_view>

#include "protocol/http_access.hpp"

namespace coworker::protocol {

/// The origin of a URL as a browser sends it in `Origin`: "scheme://host[:port]", scheme and host in
/// lower case, without a default port (80 for http, 443 for https), path or trailing slash. Empty
/// when `url` is not an http:// or https:// URL with a host.
std::string url_origin(std::string_view url);

/// The URL of a web view listening at `where`, for other machines: "http://HOST:PORT", with
/// `host_name` for a wildcard address (0.0.0.0, ::) and brackets around an IPv6 address.
std::string advertised_http_url(const listen_address& where, std::string_view host_name);

/// A ZeroMQ endpoint as others reach it: a wildcard host (tcp://*:P, tcp://0.0.0.0:P, tcp://[::]:P)
/// becomes `host_name`; anything else is returned as it is.
std::string advertised_endpoint(std::string_view endpoint, std::string_view host_name);

/// This machine's host name (gethostname), "localhost" when it has none.
std::string host_name();

}  // namespace coworker::protocol
