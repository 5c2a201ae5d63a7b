// JSON Pointer (RFC 6901) helpers shared by the parser, the chain compiler and the tests.
#pragma once

#include <string>
#include <string_view>

namespace coworker::chain {

/// Escapes one reference token: `~` becomes `~0`, `/` becomes `~1`.
std::string escape_token(std::string_view token);

/// `base` + "/" + the escaped token.
std::string child_pointer(const std::string& base, std::string_view token);
std::string child_pointer(const std::string& base, std::size_t index);

/// Compares two pointers token by token, numeric tokens by value, so that "/children/2" sorts
/// before "/children/10" and a parent before its descendants (document order for arrays).
bool pointer_less(std::string_view a, std::string_view b);

/// Makes text safe to show: bytes that are not printable ASCII become `\xNN`.
std::string printable(std::string_view text, std::size_t max_len = 200);

}  // namespace coworker::chain
