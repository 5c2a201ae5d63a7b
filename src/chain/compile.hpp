// Whole-document validation (docs/chain-language.md) that turns chain JSON into the typed model.
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "chain/model.hpp"
#include "coworker/error.hpp"
#include "coworker/limits.hpp"

namespace coworker::chain {

struct compile_options {
  limits lim;
  /// Whether an operation name is served by someone; unset: every name is accepted.
  std::function<bool(std::string_view)> known_operation;
};

struct compile_result {
  std::shared_ptr<const chain_doc> doc;  ///< set when errors is empty
  std::vector<error> errors;             ///< every error found, in document order
  bool ok() const { return errors.empty(); }
};

/// Validates `doc` whole and builds the model. Never throws.
compile_result compile_chain(const json& doc, const compile_options& opts);

/// parse_json + compile_chain.
compile_result compile_chain_text(std::string_view text, const compile_options& opts);

}  // namespace coworker::chain
