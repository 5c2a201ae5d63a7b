// http_access: string checks only; the gateway applies them before routing.
#include "protocol/http_access.hpp"

#include <cctype>
#include <charconv>

namespace coworker::protocol {

expected<listen_address> parse_listen(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return make_error(codes::invalid_input, "cannot listen on '" + std::string(text) + "': " + why +
                                                " (want HOST:PORT, e.g. 127.0.0.1:8080)");
  };
  listen_address a;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return bad("an IPv6 address is written [ADDR]:PORT");
    a.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad("no port");
    a.host = std::string(text.substr(0, colon));
    if (a.host.find(':') != std::string::npos) return bad("an IPv6 address is written [ADDR]:PORT");
    port = text.substr(colon + 1);
  }
  if (a.host.empty()) a.host = "127.0.0.1";
  auto r = std::from_chars(port.data(), port.data() + port.size(), a.port);
  if (port.empty() || r.ec != std::errc() || r.ptr != port.data() + port.size() || a.port < 0 || a.port > 65535)
    return bad("the port is a number from 0 to 65535");
  return a;
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "::1") return true;
  // 127.0.0.0/8 in dotted form: four numbers up to 255, the first 127.
  if (host.rfind("127.", 0) != 0) return false;
  int parts = 0;
  std::size_t i = 0;
  while (i <= host.size()) {
    auto dot = host.find('.', i);
    auto part = host.substr(i, dot == std::string_view::npos ? std::string_view::npos : dot - i);
    int v = -1;
    auto r = std::from_chars(part.data(), part.data() + part.size(), v);
    if (part.empty() || part.size() > 3 || r.ec != std::errc() || r.ptr != part.data() + part.size() || v > 255)
      return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    i = dot + 1;
  }
  return parts == 4;
}

bool is_loopback_host_header(std::string_view h) {
  if (!h.empty() && h.front() == '[') {
    auto close = h.find(']');
    return close != std::string_view::npos && is_loopback_host(h.substr(1, close - 1));
  }
  auto colon = h.find(':');
  return is_loopback_host(h.substr(0, colon));
}

std::string_view bearer_token(std::string_view authorization) {
  constexpr std::string_view scheme = "Bearer ";
  if (authorization.size() <= scheme.size()) return {};
  for (std::size_t i = 0; i < scheme.size(); ++i)  // the scheme is case-insensitive (RFC 9110)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != std::tolower(static_cast<unsigned char>(scheme[i])))
      return {};
  auto token = authorization.substr(scheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return token;
}

bool token_matches(std::string_view expected, std::string_view given) {
  unsigned char diff = expected.size() == given.size() ? 0 : 1;
  for (std::size_t i = 0; i < expected.size(); ++i)
    diff |= static_cast<unsigned char>(expected[i] ^ (i < given.size() ? given[i] : 0));
  return diff == 0 && !expected.empty();
}

}  // namespace coworker::protocol
