// advertised: see advertised.hpp.
#include "protocol/advertised.hpp"

#include <algorithm>
#include <cctype>

#include <unistd.h>

namespace coworker::protocol {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool is_wildcard(std::string_view host) { return host.empty() || host == "*" || host == "0.0.0.0" || host == "::" || host == "[::]"; }

}  // namespace

std::string url_origin(std::string_view url) {
  const auto sep = url.find("://");
  if (sep == std::string_view::npos) return {};
  const auto scheme = lower(url.substr(0, sep));
  if (scheme != "http" && scheme != "https") return {};
  auto rest = url.substr(sep + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (rest.find('@') != std::string_view::npos) return {};  // user:password@ is no origin
  // The port follows the last colon after an IPv6 address's closing bracket, if any.
  const auto bracket = rest.rfind(']');
  auto colon = rest.rfind(':');
  if (colon != std::string_view::npos && bracket != std::string_view::npos && colon < bracket) colon = std::string_view::npos;
  auto host = lower(rest.substr(0, colon));
  std::string port = colon == std::string_view::npos ? std::string() : std::string(rest.substr(colon + 1));
  if (host.empty() || host == "[]") return {};
  if (!std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); })) return {};
  if ((scheme == "http" && port == "80") || (scheme == "https" && port == "443")) port.clear();
  return scheme + "://" + host + (port.empty() ? "" : ":" + port);
}

std::string advertised_http_url(const listen_address& where, std::string_view name) {
  std::string host = is_wildcard(where.host) ? std::string(name) : where.host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(where.port);
}

std::string advertised_endpoint(std::string_view endpoint, std::string_view name) {
  if (endpoint.rfind("tcp://", 0) != 0) return std::string(endpoint);
  const auto colon = endpoint.rfind(':');
  if (colon == std::string_view::npos || colon < 6) return std::string(endpoint);
  if (!is_wildcard(endpoint.substr(6, colon - 6))) return std::string(endpoint);
  return "tcp://" + std::string(name) + std::string(endpoint.substr(colon));
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
  return buf;
}

}  // namespace coworker::protocol
