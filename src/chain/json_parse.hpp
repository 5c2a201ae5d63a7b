// Parsing JSON text from users with the size and depth limits enforced while parsing
// (docs/chain-language.md, sections 5 and 6).
#pragma once

#include <string_view>

#include "coworker/error.hpp"
#include "coworker/json.hpp"
#include "coworker/limits.hpp"

namespace coworker::chain {

/// Parses `text`: bad_json (syntax, invalid UTF-8, duplicate object keys — the message names the
/// JSON Pointer of the duplicate), too_large (over max_request_bytes), too_deep (over
/// max_json_depth, detected before building the value, never a stack overflow).
expected<json> parse_json(std::string_view text, const limits& lim);

}  // namespace coworker::chain
