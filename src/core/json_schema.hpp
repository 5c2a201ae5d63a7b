// A JSON Schema subset (docs/chain-language.md, "await"): `type`, `properties`, `required`, `items`,
// `enum`, `minimum`, `maximum`, `minLength`, `maxLength`. Enough to say what a signal's payload
// (and later a published chain's input and output) must look like; anything else is refused when
// the schema is read, so a schema never silently checks less than its author thinks.
#pragma once

#include <string>

#include "coworker/error.hpp"
#include "coworker/json.hpp"

namespace coworker::schema {

/// Checks the schema itself: invalid_input at `where` + the pointer of the first thing wrong.
expected<void> check(const json& schema, const std::string& where);

/// Checks `value` against a schema that passed check(): invalid_input naming `where` + the pointer
/// of the first value that does not fit (`/payload/amount`).
expected<void> validate(const json& schema, const json& value, const std::string& where);

}  // namespace coworker::schema
