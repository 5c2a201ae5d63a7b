// The field tables of the chain language and the checks of single fields (ids, options), shared by
// the compiler. Internal to src/chain.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chain/model.hpp"
#include "coworker/error.hpp"

namespace coworker::chain::detail {

/// Every field a step may have, over all four forms (for "did you mean" hints).
const std::vector<std::string_view>& all_step_fields();
/// Whether `field` is allowed on a step of `kind`.
bool field_allowed(step_kind kind, std::string_view field);
/// "an operation step", "a chain", "a parallel group", "a forEach".
const char* form_name(step_kind kind);

/// The closest of `candidates` to `name`: equal ignoring case, or within edit distance 2.
std::optional<std::string_view> closest(std::string_view name, const std::vector<std::string_view>& candidates);
/// The unknown_field error for `name` at `pointer`, with a hint when a candidate is close.
error unknown_field(std::string_view name, const std::string& pointer, const std::vector<std::string_view>& candidates,
                    std::string_view where);

/// `[A-Za-z_][A-Za-z0-9_-]*`.
bool valid_name(std::string_view s);
/// Names templates use as roots; no step id or `as` name may take them.
bool reserved_name(std::string_view s);

/// An integer value of `v` when it is a JSON integer that fits int64 (no float, no bool).
std::optional<std::int64_t> int_value(const json& v);
/// A finite number (integer or float), as double.
std::optional<double> number_value(const json& v);

/// Parses `options` of a step of `kind` into `out`, appending every error.
void parse_options(const json& v, const std::string& pointer, step_kind kind, step_options& out,
                   std::vector<error>& errors);

/// Depth of nesting of `v` (a scalar is 0, `[]` is 1), counted without recursion and stopping
/// once past `cap`.
int json_depth(const json& v, int cap);

/// JSON type name for messages: "a string", "an array", ...
std::string type_phrase(const json& v);

}  // namespace coworker::chain::detail
