// Who may use the HTTP endpoint (docs/web.md, "Security"): where it listens, the optional bearer
// token, and the checks that keep other web sites out of a loopback endpoint that has no token.
#pragma once

#include <string>
#include <string_view>

#include "coworker/error.hpp"

namespace coworker::protocol {

struct listen_address {
  std::string host;  ///< without brackets for IPv6
  int port = 0;      ///< 0: any free port
};

/// "HOST:PORT", "[IPv6]:PORT" or ":PORT" (loopback); invalid_input otherwise.
expected<listen_address> parse_listen(std::string_view text);

/// localhost, 127.0.0.0/8 or ::1.
bool is_loopback_host(std::string_view host);

/// A Host header naming a loopback address (with or without port): a page of another site that
/// resolves its own name to 127.0.0.1 (DNS rebinding) sends its own name instead.
bool is_loopback_host_header(std::string_view host_header);

/// The token of an `Authorization: Bearer TOKEN` header; empty when there is none.
std::string_view bearer_token(std::string_view authorization);

/// Compares in time independent of where the strings differ.
bool token_matches(std::string_view expected, std::string_view given);

}  // namespace coworker::protocol
