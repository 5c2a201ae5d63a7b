// Typed readers of one field of a JSON object received from a client, a worker or a config file.
// None of them throws: a wrong type is an `invalid_input` error naming the field's JSON Pointer
// (`base` + "/" + key). "Absent" includes JSON null, so clients may send null for "not given".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "coworker/error.hpp"
#include "coworker/json.hpp"

namespace coworker::protocol {

/// A string field; required and absent: invalid_input; optional and absent: "".
expected<std::string> string_field(const json& obj, std::string_view key, bool required, const std::string& base = {});
/// A boolean field (true/false only, never "yes" or 1); absent: `fallback`.
expected<bool> bool_field(const json& obj, std::string_view key, bool fallback, const std::string& base = {});
/// An integer field in [min, max] (no float, no bool, no string); absent: `fallback`.
expected<std::int64_t> int_field(const json& obj, std::string_view key, std::int64_t fallback, std::int64_t min,
                                 std::int64_t max, const std::string& base = {});
/// An object field; absent: nullptr (the returned pointer), wrong type: invalid_input.
expected<const json*> object_field(const json& obj, std::string_view key, const std::string& base = {});

/// An integer from text (a query string, a command line): decimal digits only, in [min, max];
/// `where` names the place in the error ("query parameter 'recent'").
expected<std::int64_t> parse_int_text(std::string_view text, std::int64_t min, std::int64_t max, const std::string& where);
/// A boolean from text: true/false/1/0 (anything else is invalid_input naming `where`).
expected<bool> parse_bool_text(std::string_view text, const std::string& where);

}  // namespace coworker::protocol
